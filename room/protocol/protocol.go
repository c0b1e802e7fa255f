// Package protocol is gochat's wire protocol, the one place that defines it:
// every frame and HTTP body as a Go struct with its easyjson code, the frame
// types and error codes, the decoder of inbound frames (with its fuzz
// target), and the timestamp format. The room, the worker, cmd/chatbench,
// the e2e tests and the Go client all import it.
package protocol

import (
	"strings"
	"time"

	"github.com/mailru/easyjson/jlexer"
	"github.com/mailru/easyjson/jwriter"
)

// The generated code is trimmed of its import of easyjson's root package,
// which imports net/http: see scripts/generate.sh.
//go:generate go tool easyjson -all -no_std_marshalers protocol.go

// PingFrame is the exact keepalive frame the runtime answers on its own, with
// PongFrame, without waking the room (setWebSocketAutoResponse).
const (
	PingFrame = `{"type":"ping"}`
	PongFrame = `{"type":"pong"}`
)

// Inbound frame types (client → server).
const (
	TypeJoin    = "join"
	TypeMessage = "message"
	TypePing    = "ping"
	// TypeEdit replaces the text of one's own message; TypeDelete removes a
	// message (one's own, or anyone's for a moderator or a service).
	TypeEdit   = "edit"
	TypeDelete = "delete"
	// The moderation frames, for a moderator's or a service's token only.
	TypeKick     = "kick"
	TypeBan      = "ban"
	TypeUnban    = "unban"
	TypeMute     = "mute"
	TypeUnmute   = "unmute"
	TypeSlowMode = "slow_mode"
	// The live signals: typing, read markers and reactions.
	TypeTyping = "typing"
	TypeRead   = "read"
	TypeReact  = "react"
)

// Outbound frame types (server → client).
const (
	TypeUserJoined = "user_joined"
	TypeUserLeft   = "user_left"
	TypePong       = "pong"
	TypeError      = "error"
	TypePresence   = "presence"
	TypeHistory    = "history"
	// TypeMessageEdited and TypeMessageDeleted announce a change to a
	// message; each takes a position in the sequence of message ids.
	TypeMessageEdited  = "message_edited"
	TypeMessageDeleted = "message_deleted"
	// The moderation events; each takes a position, too.
	TypeUserKicked   = "user_kicked"
	TypeUserBanned   = "user_banned"
	TypeUserUnbanned = "user_unbanned"
	TypeUserMuted    = "user_muted"
	TypeUserUnmuted  = "user_unmuted"
	// TypeRoomSettings tells the room's settings that are not the default;
	// a joining socket gets it after presence.
	TypeRoomSettings = "room_settings"
	// TypeReadState tells a joining socket its user's read position;
	// TypeReaction announces a reaction toggled, at a position. (typing and
	// read go out under their inbound names.)
	TypeReadState = "read_state"
	TypeReaction  = "reaction"
)

// Roles a token's "role" claim may give. Without a claim the role is
// RoleMember; open mode (no tokens) has no roles at all.
const (
	RoleMember    = "member"
	RoleModerator = "moderator"
	RoleService   = "service"
)

// Error codes sent in error frames. The socket stays open after each of them.
const (
	CodeInvalidJSON      = "invalid_json"
	CodeUnknownType      = "unknown_type"
	CodeInvalidUserID    = "invalid_user_id"
	CodeAlreadyJoined    = "already_joined"
	CodeNotJoined        = "not_joined"
	CodeInvalidMessage   = "invalid_message"
	CodeMessageTooLong   = "message_too_long"
	CodeUnsupportedFrame = "unsupported_frame"
	CodeInvalidSince     = "invalid_since"
	CodeStorage          = "storage_unavailable"
	CodeForbidden        = "forbidden"
	CodeRateLimited      = "rate_limited"
	CodeContentBlocked   = "content_blocked"
	// CodeTooManyConnections is an open-mode join over
	// MAX_CONNECTIONS_PER_USER; a 1008 close follows it.
	CodeTooManyConnections = "too_many_connections"
	// CodeNotFound is an edit or delete of a message the room does not hold.
	CodeNotFound = "not_found"
	// CodeInvalidID is an id that is not a positive integer message id.
	CodeInvalidID = "invalid_id"
	// CodeMuted is a message from a muted user (with until); CodeSlowMode
	// one sent sooner than slow mode allows (with retryAfterMs); CodeBanned
	// an open-mode join of a banned user (with until; a 4003 close follows).
	CodeMuted    = "muted"
	CodeSlowMode = "slow_mode"
	CodeBanned   = "banned"
	// CodeInvalidSeconds is a duration that is not a non-negative integer
	// within bounds; CodeInvalidReason a reason that is not a short text.
	CodeInvalidSeconds = "invalid_seconds"
	CodeInvalidReason  = "invalid_reason"
	// CodeInvalidReaction is an emoji that is not one emoji grapheme cluster
	// of at most MaxEmojiBytes; CodeTooManyReactions the 21st distinct emoji
	// on one message.
	CodeInvalidReaction  = "invalid_reaction"
	CodeTooManyReactions = "too_many_reactions"
)

// HTTP error codes of the front worker and the room API (the "error" field).
const (
	HTTPBodyTooLarge       = "body_too_large"       // 413: a server API body over MaxBodyBytes
	HTTPTooManyConnections = "too_many_connections" // 429: per user or per IP, in one room
	HTTPTooManyRequests    = "too_many_requests"    // 429: upgrades per IP, across rooms
	HTTPForbiddenRoom      = "forbidden_room"       // 403: the token's rooms claim does not cover the room
	HTTPInvalidBefore      = "invalid_before"       // 400: before is not a positive integer
	HTTPRoomFull           = "room_full"            // 503: MAX_CONNECTIONS_PER_ROOM
	HTTPInvalidAddress     = "invalid_address"      // 400: a CF-Connecting-IP longer than any address
)

// Close codes the room sends.
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001
	ClosePolicyViolation = 1008
	CloseMessageTooBig   = 1009
	CloseInternal        = 1011
	// CloseTokenExpired closes a socket whose token expired (reason
	// "token expired"); the client reconnects with a fresh token.
	CloseTokenExpired = 4001
	// CloseModerated closes the sockets of a kicked ("kicked") or banned
	// ("banned") user.
	CloseModerated = 4003
)

// MaxBodyBytes bounds the body of a server API call.
const MaxBodyBytes = 64 << 10

// MaxFrameBytes bounds every frame the server sends, and every page of the
// messages API: a client can size its buffers by it. (The room info's full
// roster is not a frame and is not bounded by it.)
const MaxFrameBytes = 1 << 20

// TimeLayout is the wire timestamp: UTC ISO-8601 with milliseconds, as in the
// seed (2025-10-26T05:20:00.000Z).
const TimeLayout = "2006-01-02T15:04:05.000Z"

// Timestamp formats t as a wire timestamp. It is written out for speed: it
// runs for every frame the room sends, and time.Format interprets its layout
// each time.
func Timestamp(t time.Time) string {
	t = t.UTC()
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	if year < 0 || year > 9999 {
		return t.Format(TimeLayout)
	}
	var b [24]byte
	put := func(i, v, width int) {
		for j := i + width - 1; j >= i; j-- {
			b[j] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, year, 4)
	b[4] = '-'
	put(5, int(month), 2)
	b[7] = '-'
	put(8, day, 2)
	b[10] = 'T'
	put(11, hour, 2)
	b[13] = ':'
	put(14, min, 2)
	b[16] = ':'
	put(17, sec, 2)
	b[19] = '.'
	put(20, ms, 3)
	b[23] = 'Z'
	return string(b[:])
}

// Raw is a JSON value kept as written, for fields whose type the validator
// checks itself.
type Raw []byte

// UnmarshalEasyJSON keeps the value's bytes. They alias the input, which
// Decode's callers keep unchanged while they use the result.
func (r *Raw) UnmarshalEasyJSON(l *jlexer.Lexer) { *r = l.Raw() }

// MarshalEasyJSON writes the value back as it was.
func (r Raw) MarshalEasyJSON(w *jwriter.Writer) { w.Raw(r, nil) }

// Marshaler is a wire struct with its generated encoder.
type Marshaler interface{ MarshalEasyJSON(*jwriter.Writer) }

// Marshal encodes a wire struct with its generated code. It avoids
// easyjson.Marshal, whose package pulls net/http into the Wasm build. Text
// is not HTML-escaped: a < costs one byte, not six (\u003c), and UTF-8 goes
// out as UTF-8; frames are JSON, never HTML.
//
// It cannot fail: jwriter records an error only when a marshaler hands one to
// Writer.Raw, and no wire type does (Raw and Field write their bytes back
// with a nil error); strings, numbers and bools always encode.
//
// It is generic, not an interface parameter, so that each type's decoder
// stays out of the build unless something decodes that type.
func Marshal[T Marshaler](v T) []byte {
	w := jwriter.Writer{NoEscapeHTML: true}
	v.MarshalEasyJSON(&w)
	b, _ := w.BuildBytes() // see above: never an error
	return b
}

// Frame marshals a message frame into one buffer of about size bytes, so
// that a long text is written without growing the writer's buffer in steps
// (and without copying the steps together at the end). It is a method, not
// the generic Marshal, so that the compiler keeps the message and the
// writer on the stack: a message costs one allocation, its frame. It cannot
// fail, for Marshal's reason.
func (m ChatMessage) Frame(size int) []byte {
	w := jwriter.Writer{NoEscapeHTML: true}
	w.Buffer.Buf = make([]byte, 0, size)
	m.MarshalEasyJSON(&w)
	b, _ := w.BuildBytes()
	return b
}

// Unmarshal decodes a wire struct with its generated code, requiring that
// nothing follows the value.
func Unmarshal[T interface{ UnmarshalEasyJSON(*jlexer.Lexer) }](data []byte, v T) error {
	l := jlexer.Lexer{Data: data}
	v.UnmarshalEasyJSON(&l)
	l.Consumed()
	return l.Error()
}

// Frame is an inbound frame as decoded from JSON. Each field records whether
// it was there and whether it was a string, so that the validator can tell
// "absent" from "present with the wrong type" and name the field that is
// wrong instead of answering every mistake with invalid_json. A null field
// counts as absent.
type Frame struct {
	Type    TypeField `json:"type"`
	UserID  Field     `json:"userId"`
	Text    Field     `json:"text"`
	Since   Raw       `json:"since"`
	ID      Raw       `json:"id"`
	Seconds Raw       `json:"seconds"`
	Reason  Field     `json:"reason"`
	Emoji   Field     `json:"emoji"`
}

// Field is a frame field read in one pass: Str holds a string value (a
// copy, since a userId outlives the frame); Raw holds any other value as
// written. The zero Field is an absent one.
//
//easyjson:skip
type Field struct {
	Present  bool
	IsString bool
	Str      string
	Raw      []byte
}

// UnmarshalEasyJSON reads the field's value; a repeated field replaces it.
func (f *Field) UnmarshalEasyJSON(l *jlexer.Lexer) {
	*f = Field{Present: true}
	if l.CurrentToken() != jlexer.TokenString {
		f.Raw = l.Raw()
		return
	}
	f.IsString, f.Str = true, l.String()
}

// MarshalEasyJSON writes the value back: the string, the raw value, or null.
func (f Field) MarshalEasyJSON(w *jwriter.Writer) {
	switch {
	case f.IsString:
		w.String(f.Str)
	case f.Raw != nil:
		w.Raw(f.Raw, nil)
	default:
		w.RawString("null")
	}
}

// TypeField is the frame's "type": Name is the type's constant when it is
// one of the inbound types, a copy of any other string, and empty when the
// value is not a string. Known types cost no copy of the frame's bytes.
//
//easyjson:skip
type TypeField struct {
	Present  bool
	IsString bool
	Name     string
}

// UnmarshalEasyJSON reads the type; a repeated field replaces it.
func (k *TypeField) UnmarshalEasyJSON(l *jlexer.Lexer) {
	*k = TypeField{Present: true}
	if l.CurrentToken() != jlexer.TokenString {
		l.SkipRecursive()
		return
	}
	k.IsString = true
	switch s := l.UnsafeString(); s {
	case TypeJoin:
		k.Name = TypeJoin
	case TypeMessage:
		k.Name = TypeMessage
	case TypePing:
		k.Name = TypePing
	case TypeEdit:
		k.Name = TypeEdit
	case TypeDelete:
		k.Name = TypeDelete
	case TypeTyping:
		k.Name = TypeTyping
	case TypeKick, TypeBan, TypeUnban, TypeMute, TypeUnmute, TypeSlowMode, TypeRead, TypeReact:
		k.Name = strings.Clone(s)
	default:
		k.Name = strings.Clone(s)
	}
}

// MarshalEasyJSON writes the type back, or null for a value that was not a
// string.
func (k TypeField) MarshalEasyJSON(w *jwriter.Writer) {
	if k.IsString {
		w.String(k.Name)
		return
	}
	w.RawString("null")
}

// JoinRequest is a client's join frame: userId may be left out on a
// signed-in connection, and Since asks for a resume after that message id.
type JoinRequest struct {
	Type   string `json:"type"`
	UserID string `json:"userId,omitempty"`
	Since  *int64 `json:"since,omitempty"`
}

// MessageRequest is a client's message frame. UserID is needed only on an
// unjoined connection, which it then joins (the seed's quick test).
type MessageRequest struct {
	Type   string `json:"type"`
	Text   string `json:"text"`
	UserID string `json:"userId,omitempty"`
}

// UserJoined announces that a user is present in the room.
type UserJoined struct {
	Type      string `json:"type"`
	UserID    string `json:"userId"`
	Timestamp string `json:"timestamp"`
}

// UserLeft announces that a user's last connection has closed.
type UserLeft struct {
	Type      string `json:"type"`
	UserID    string `json:"userId"`
	Timestamp string `json:"timestamp"`
}

// ChatMessage is a message broadcast to every joined member. ID is its place
// in the room's history.
type ChatMessage struct {
	Type      string `json:"type"`
	ID        int64  `json:"id"`
	UserID    string `json:"userId"`
	Text      string `json:"text"`
	Timestamp string `json:"timestamp"`
}

// StoredMessage is one message of the room's history.
type StoredMessage struct {
	ID        int64  `json:"id"`
	UserID    string `json:"userId"`
	Text      string `json:"text"`
	Timestamp string `json:"timestamp"`
	// EditedAt is when the text was last edited; absent when never.
	EditedAt string `json:"editedAt,omitempty"`
	// Reactions are the message's reactions, absent when none.
	Reactions []ReactionSummary `json:"reactions,omitempty"`
}

// ReactionSummary is one emoji on a message: how many reacted with it, and
// the first ReactionUsers of them.
type ReactionSummary struct {
	Emoji string   `json:"emoji"`
	Count int      `json:"count"`
	Users []string `json:"users"`
}

// ReactionUsers is how many reactors a summary names: enough for a tooltip.
const ReactionUsers = 10

// Typing tells the other members that UserID is typing.
type Typing struct {
	Type   string `json:"type"`
	UserID string `json:"userId"`
}

// ReadMarker tells the other members how far UserID has read.
type ReadMarker struct {
	Type   string `json:"type"`
	UserID string `json:"userId"`
	ID     int64  `json:"id"`
}

// ReadState tells a joining socket its user's read position and how many
// messages follow it (at most MaxUnread; Capped says there are more).
type ReadState struct {
	Type     string `json:"type"`
	LastRead int64  `json:"lastRead"`
	Unread   int64  `json:"unread"`
	Capped   bool   `json:"capped,omitempty"`
}

// MaxUnread caps the unread count: a number past it says "many".
const MaxUnread = 1000

// Reaction announces a reaction toggled on MessageID, at position ID.
type Reaction struct {
	Type      string `json:"type"`
	ID        int64  `json:"id"`
	MessageID int64  `json:"messageId"`
	Emoji     string `json:"emoji"`
	UserID    string `json:"userId"`
	Added     bool   `json:"added"`
}

// MessageEdited announces an edit: ID is the edit's position in the
// sequence of message ids, MessageID the message it changed.
type MessageEdited struct {
	Type      string `json:"type"`
	ID        int64  `json:"id"`
	MessageID int64  `json:"messageId"`
	UserID    string `json:"userId"`
	Text      string `json:"text"`
	EditedAt  string `json:"editedAt"`
}

// Moderation announces a moderation action on UserID by By at its
// position: user_kicked (with Reason), user_banned and user_muted (with
// Reason and Until, null when it lasts until lifted), user_unbanned and
// user_unmuted.
type Moderation struct {
	Type      string  `json:"type"`
	ID        int64   `json:"id"`
	UserID    string  `json:"userId"`
	By        string  `json:"by"`
	Reason    *string `json:"reason,omitempty"`
	Until     *Until  `json:"until,omitempty"`
	Timestamp string  `json:"timestamp"`
}

// Until is a ban's or a mute's end: a wire timestamp, or null for one that
// lasts until it is lifted.
//
//easyjson:skip
type Until struct{ At string }

// MarshalEasyJSON writes the timestamp, or null.
func (u Until) MarshalEasyJSON(w *jwriter.Writer) {
	if u.At == "" {
		w.RawString("null")
		return
	}
	w.String(u.At)
}

// UnmarshalEasyJSON reads a timestamp or null.
func (u *Until) UnmarshalEasyJSON(l *jlexer.Lexer) {
	if l.IsNull() {
		l.Skip()
		u.At = ""
		return
	}
	u.At = l.String()
}

// Posted is the 201 answer of POST /api/rooms/{room}/messages: the stored
// message's id and timestamp.
type Posted struct {
	ID        int64  `json:"id"`
	Timestamp string `json:"timestamp"`
}

// BanEntry is one ban in force, as GET /api/rooms/{room}/bans lists it.
type BanEntry struct {
	UserID string `json:"userId"`
	Until  *Until `json:"until"`
	Reason string `json:"reason"`
	By     string `json:"by"`
	At     string `json:"at"`
}

// BanEntries is a list of bans, as SQLite builds it.
//
//easyjson:json
type BanEntries []BanEntry

// BanList is the body of GET /api/rooms/{room}/bans.
type BanList struct {
	Room string     `json:"room"`
	Bans BanEntries `json:"bans"`
}

// AuditEntry is one moderation action: Action is the frame type that did
// it (kick, ban, unban, mute, unmute, slow_mode, delete), By who, UserID to
// whom, and the action's own fields.
type AuditEntry struct {
	ID        int64  `json:"id"`
	Action    string `json:"action"`
	UserID    string `json:"userId,omitempty"`
	By        string `json:"by"`
	Reason    string `json:"reason,omitempty"`
	Until     *Until `json:"until,omitempty"`
	Seconds   int64  `json:"seconds,omitempty"`
	MessageID int64  `json:"messageId,omitempty"`
	Timestamp string `json:"timestamp"`
}

// AuditEntries is a page of the log, as SQLite builds it.
//
//easyjson:json
type AuditEntries []AuditEntry

// AuditPage is the body of GET /api/rooms/{room}/audit: the newest entries
// below before, newest first; Truncated says older ones exist.
type AuditPage struct {
	Room      string       `json:"room"`
	Entries   AuditEntries `json:"entries"`
	Truncated bool         `json:"truncated,omitempty"`
}

// BannedBody is the 403 answer to an upgrade of a banned user.
type BannedBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Until   *Until `json:"until"`
}

// RoomSettings are the room's settings: SlowModeSeconds is 0 when off.
type RoomSettings struct {
	Type            string `json:"type"`
	SlowModeSeconds int64  `json:"slowModeSeconds"`
}

// ModerationError is the error frame of a moderation rule: muted and
// banned carry Until, slow_mode RetryAfterMs.
type ModerationError struct {
	Type         string `json:"type"`
	Code         string `json:"code"`
	Message      string `json:"message"`
	Until        *Until `json:"until,omitempty"`
	RetryAfterMs int64  `json:"retryAfterMs,omitempty"`
}

// MessageDeleted announces a deletion by By: ID is its position, MessageID
// the message that is gone (its text with it).
type MessageDeleted struct {
	Type      string `json:"type"`
	ID        int64  `json:"id"`
	MessageID int64  `json:"messageId"`
	By        string `json:"by"`
	Timestamp string `json:"timestamp"`
}

// Presence lists the distinct users joined to the room, sorted.
type Presence struct {
	Type  string   `json:"type"`
	Users []string `json:"users"`
}

// PresenceSummary is the roster of a large room: how many users are joined.
// Users stays empty and Truncated true; GET /api/rooms/{room} lists them.
type PresenceSummary struct {
	Type      string   `json:"type"`
	Users     []string `json:"users"`
	Count     int      `json:"count"`
	Truncated bool     `json:"truncated"`
}

// History is sent to a joining socket: the latest messages, or those after
// its "since", oldest first. Truncated says older ones were left out.
type History struct {
	Type      string          `json:"type"`
	Messages  []StoredMessage `json:"messages"`
	Truncated bool            `json:"truncated,omitempty"`
	// Changes, on a resume, are the changes after since to messages at or
	// before it (message_edited, message_deleted frames), in order: a
	// client that applies them ends with the view of one that never left.
	Changes []Raw `json:"changes,omitempty"`
}

// RoomInfo is the body of GET /api/rooms/{room}.
type RoomInfo struct {
	Room          string   `json:"room"`
	Users         []string `json:"users"`
	Connections   int      `json:"connections"`
	LastMessageID int64    `json:"lastMessageId"`
	// Reads are the read positions of the users present, 0 for one who has
	// read nothing; absent above the presence limit.
	Reads map[string]int64 `json:"reads,omitempty"`
}

// MessagesPage is the body of GET /api/rooms/{room}/messages.
type MessagesPage struct {
	Room      string          `json:"room"`
	Messages  []StoredMessage `json:"messages"`
	Truncated bool            `json:"truncated,omitempty"`
}

// RawList is a JSON array of frames kept as written: how a Store hands over
// a batch of change frames in one piece.
//
//easyjson:json
type RawList []Raw

// StoredMessages is how a Store hands over a batch of rows in one piece.
//
//easyjson:json
type StoredMessages []StoredMessage

// Pong answers a ping that the runtime's auto-response did not match.
type Pong struct {
	Type string `json:"type"`
}

// ErrorFrame reports a rejected frame. The socket stays open.
type ErrorFrame struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// RateLimited is the error frame of a rate-limited message: RetryAfterMs
// is when the user's next message will pass.
type RateLimited struct {
	Type         string `json:"type"`
	Code         string `json:"code"`
	Message      string `json:"message"`
	RetryAfterMs int64  `json:"retryAfterMs"`
}

// HTTPError is the JSON body of every error response of the HTTP edge.
type HTTPError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// Health is the body of GET /api/health.
type Health struct {
	OK bool `json:"ok"`
}
