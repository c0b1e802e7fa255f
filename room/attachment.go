package room

import (
	"strings"

	"github.com/chatroom/gochat/room/protocol"
)

// The generated code is trimmed of its import of easyjson's root package,
// which imports net/http: see scripts/generate.sh.
//go:generate go tool easyjson -no_std_marshalers attachment.go

// Attachment is what a socket carries through hibernation: the only per-socket
// state that survives eviction. Keys are short because it is stored per socket.
//
//easyjson:json
type Attachment struct {
	// SID identifies the session within the room; unique among open sockets.
	SID uint64 `json:"s"`
	// UserID is the joined identity, empty until the socket joins.
	UserID string `json:"u,omitempty"`
	// Bound is the identity a verified token gave the socket at accept.
	Bound string `json:"b,omitempty"`
	// Active is the last second (Unix, rounded up) the socket sent anything.
	Active int64 `json:"a,omitempty"`
	// Accepted is the second (Unix, rounded up) the socket was accepted.
	Accepted int64 `json:"c,omitempty"`
	// IP is the address the socket came from (CF-Connecting-IP).
	IP string `json:"i,omitempty"`
	// Expires is the token's exp (Unix seconds), when it has one.
	Expires int64 `json:"x,omitempty"`
	// Role is the token's role, when it has one.
	Role string `json:"r,omitempty"`
	// Gone marks a socket the room has already said goodbye to, so that a late
	// close or error event for it announces nothing twice.
	Gone bool `json:"g,omitempty"`
}

// Attachments is a JSON array of the sockets' attachments, null where a
// socket has none: how a host that reads a whole room's attachments in one
// call hands them over (see DecodeAttachments and Fast).
//
//easyjson:json
type Attachments []*Attachment

// DecodeAttachments decodes a JSON array of attachments (null for a socket
// without one), in the order of the host's sockets. Text in the exact shape
// the room writes takes decodeAttachments; anything else goes to easyjson.
// Every string field of the result may be a part of text.
func DecodeAttachments(text string) (Attachments, error) {
	if atts, ok := decodeAttachments(text); ok {
		return atts, nil
	}
	var atts Attachments
	err := protocol.Unmarshal([]byte(text), &atts)
	return atts, err
}

// decodeAttachmentText decodes one socket's attachment, by the fast path
// of decodeAttachments when it takes the text, else by easyjson.
func decodeAttachmentText(data []byte, att *Attachment) error {
	text := string(data)
	if j, ok := decodeAttachment(text, 0, att); ok && j == len(text) {
		return nil
	}
	*att = Attachment{}
	return protocol.Unmarshal(data, att)
}

// decodeAttachments is the wake's fast path: it decodes only the exact text
// easyjson's marshaler makes of attachments the room wrote (Attachment's
// fields in their order, no spaces, digits without a sign, strings without an
// escape) and answers false for anything else, which DecodeAttachments then
// hands to easyjson. So it can only be faster, never different:
// FuzzDecodeAttachments holds it to easyjson on any input.
//
// It pays because a wake runs it once, cold: measured in workerd, easyjson
// took about 0.5 ms of CPU to decode a 50-member room's attachments, a fifth
// of a wake's extra cost over the JS baseline. This makes the attachments
// in one array, the list of pointers to them, and no string: every string
// field is a part of text, so the text stays in memory while any of them
// does (a room's attachments, which its sessions hold anyway).
func decodeAttachments(text string) (Attachments, bool) {
	if len(text) < 2 || text[0] != '[' {
		return nil, false
	}
	n := strings.Count(text, `{"s":`)
	atts := make(Attachments, 0, n+strings.Count(text, "null"))
	backing := make([]Attachment, n)
	i := 1
	if text[i] == ']' {
		return atts, len(text) == 2
	}
	for {
		if strings.HasPrefix(text[i:], "null") {
			atts = append(atts, nil)
			i += 4
		} else {
			if len(backing) == 0 {
				return nil, false
			}
			att := &backing[0]
			backing = backing[1:]
			j, ok := decodeAttachment(text, i, att)
			if !ok {
				return nil, false
			}
			atts = append(atts, att)
			i = j
		}
		if i >= len(text) {
			return nil, false
		}
		switch text[i] {
		case ',':
			i++
		case ']':
			return atts, i+1 == len(text)
		default:
			return nil, false
		}
	}
}

// attachmentKeys are Attachment's JSON keys in the order easyjson writes
// them; decodeAttachment takes them in no other.
const attachmentKeys = "subacixrg"

// decodeAttachment decodes the object at text[i:] into att and answers the
// index after it.
func decodeAttachment(text string, i int, att *Attachment) (int, bool) {
	if !strings.HasPrefix(text[i:], `{"s":`) {
		return 0, false
	}
	i += len(`{"s":`)
	var ok bool
	var sid int64
	if sid, i, ok = attachmentNumber(text, i); !ok {
		return 0, false
	}
	att.SID = uint64(sid)
	last := 0 // the index in attachmentKeys of the last key taken
	for {
		if i >= len(text) {
			return 0, false
		}
		if text[i] == '}' {
			return i + 1, true
		}
		// ,"k":
		if i+5 > len(text) || text[i] != ',' || text[i+1] != '"' || text[i+3] != '"' || text[i+4] != ':' {
			return 0, false
		}
		k := strings.IndexByte(attachmentKeys, text[i+2])
		if k <= last {
			return 0, false
		}
		last = k
		i += 5
		var str string
		var num int64
		switch attachmentKeys[k] {
		case 'u', 'b', 'i', 'r':
			str, i, ok = attachmentString(text, i)
		case 'a', 'c', 'x':
			num, i, ok = attachmentNumber(text, i)
		case 'g':
			ok = strings.HasPrefix(text[i:], "true")
			i += 4
		}
		if !ok {
			return 0, false
		}
		switch attachmentKeys[k] {
		case 'u':
			att.UserID = str
		case 'b':
			att.Bound = str
		case 'i':
			att.IP = str
		case 'r':
			att.Role = str
		case 'a':
			att.Active = num
		case 'c':
			att.Accepted = num
		case 'x':
			att.Expires = num
		case 'g':
			att.Gone = true
		}
	}
}

// attachmentNumber reads the digits at text[i:]: at most 18 of them, so that
// they cannot overflow, and no leading zero.
func attachmentNumber(text string, i int) (int64, int, bool) {
	start := i
	var n int64
	for i < len(text) && i-start < 18 && '0' <= text[i] && text[i] <= '9' {
		n = n*10 + int64(text[i]-'0')
		i++
	}
	if i == start || (text[start] == '0' && i-start > 1) || (i < len(text) && '0' <= text[i] && text[i] <= '9') {
		return 0, 0, false
	}
	return n, i, true
}

// attachmentString reads the string at text[i:], a part of text itself: one
// without an escape, a control character or a byte past ASCII (those go to
// easyjson, which knows their rules).
func attachmentString(text string, i int) (string, int, bool) {
	if i >= len(text) || text[i] != '"' {
		return "", 0, false
	}
	i++
	start := i
	for ; i < len(text); i++ {
		switch c := text[i]; {
		case c == '"':
			return text[start:i], i + 1, true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return "", 0, false
		}
	}
	return "", 0, false
}
