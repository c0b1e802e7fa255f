package room

import "github.com/chatroom/gochat/room/protocol"

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
// without one), in the order of the host's sockets.
func DecodeAttachments(data []byte) (Attachments, error) {
	var atts Attachments
	err := protocol.Unmarshal(data, &atts)
	return atts, err
}
