package room

// DecodeAttachmentsFast is decodeAttachments, for FuzzDecodeAttachments.
var DecodeAttachmentsFast = decodeAttachments

// DecodeAttachmentText is decodeAttachmentText, for FuzzDecodeAttachments.
func DecodeAttachmentText(data []byte) (Attachment, error) {
	var att Attachment
	err := decodeAttachmentText(data, &att)
	return att, err
}
