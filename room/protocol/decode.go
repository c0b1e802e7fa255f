package protocol

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/mailru/easyjson/jlexer"
)

// Request is a validated inbound frame.
type Request struct {
	Type string
	// UserID is the frame's userId; HasUserID tells whether the field was present.
	UserID    string
	HasUserID bool
	// UserIDErr is why a present userId is invalid, or nil.
	UserIDErr *Reject
	Text      string
	HasText   bool
	// Since is the last message id a resuming client saw; HasSince tells
	// whether it was given (null counts as not given). SinceErr is why a
	// given since is invalid, or nil.
	Since    int64
	HasSince bool
	SinceErr *Reject
	// ID is the message an edit or delete is about; HasID tells whether it
	// was given, IDErr why a given one is invalid.
	ID    int64
	HasID bool
	IDErr *Reject
	// Seconds is a ban's, a mute's or slow mode's duration; HasSeconds
	// tells whether it was given, SecondsErr why a given one is invalid.
	Seconds    int64
	HasSeconds bool
	SecondsErr *Reject
	// Reason is a moderation action's reason, "" when absent; ReasonErr is
	// why a given one is invalid.
	Reason    string
	ReasonErr *Reject
	// Emoji is a reaction's emoji; EmojiErr why it is not one.
	Emoji    string
	HasEmoji bool
	EmojiErr *Reject
}

// Reject is a rule violation answered with an error frame; the socket stays open.
type Reject struct {
	Code    string
	Message string
}

func (r *Reject) Error() string { return r.Code + ": " + r.Message }

// Rejectf makes a Reject with a formatted message.
func Rejectf(code, format string, args ...any) *Reject {
	return &Reject{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Decode parses one text frame into a Request. It checks JSON shape and field
// types; the per-type rules (what join and message need) live in the room.
func Decode(data []byte) (Request, *Reject) { return decode(data, "") }

// DecodeBody parses the JSON body of a server API call as a frame of type
// typ: the same fields, the same checks, and no "type" of its own.
func DecodeBody(data []byte, typ string) (Request, *Reject) { return decode(data, typ) }

func decode(data []byte, typ string) (Request, *Reject) {
	var req Request
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return req, Rejectf(CodeInvalidJSON, "frame must be a JSON object")
	}
	// The concrete method, not the generic unmarshal: it lets the compiler
	// keep the lexer and the frame on the stack, two allocations fewer on
	// every message.
	var f Frame
	l := jlexer.Lexer{Data: data}
	f.UnmarshalEasyJSON(&l)
	l.Consumed()
	if err := l.Error(); err != nil {
		return req, Rejectf(CodeInvalidJSON, "frame is not valid JSON")
	}
	if typ != "" {
		req.Type = typ
	} else if rej := checkType(&req, f.Type); rej != nil {
		return req, rej
	}
	if f.UserID.Present {

		req.HasUserID = true
		if !f.UserID.IsString {
			req.UserIDErr = Rejectf(CodeInvalidUserID, `"userId" must be a string`)
		} else if err := ValidUserID(f.UserID.Str); err != nil {
			req.UserIDErr = err
		} else {
			req.UserID = f.UserID.Str
		}
	}
	if f.Text.Present {
		req.HasText = true
		if !f.Text.IsString {
			return req, Rejectf(CodeInvalidMessage, `"text" must be a string`)
		}
		req.Text = f.Text.Str
	}
	if f.Since != nil && string(bytes.TrimSpace(f.Since)) != "null" {
		req.HasSince = true
		req.Since, req.SinceErr = ParseSince(string(bytes.TrimSpace(f.Since)))
	}
	if f.ID != nil && string(bytes.TrimSpace(f.ID)) != "null" {
		req.HasID = true
		id, rej := ParseSince(string(bytes.TrimSpace(f.ID)))
		if rej != nil || id < 1 {
			req.IDErr = Rejectf(CodeInvalidID, `"id" must be a positive integer message id`)
		}
		req.ID = id
	}
	if f.Seconds != nil && string(bytes.TrimSpace(f.Seconds)) != "null" {
		req.HasSeconds = true
		n, rej := ParseSince(string(bytes.TrimSpace(f.Seconds)))
		if rej != nil || n > MaxSeconds {
			req.SecondsErr = Rejectf(CodeInvalidSeconds, `"seconds" must be an integer from 0 to %d`, MaxSeconds)
		}
		req.Seconds = n
	}
	if f.Reason.Present {
		switch {
		case !f.Reason.IsString && f.Reason.Raw != nil && string(bytes.TrimSpace(f.Reason.Raw)) == "null":
		case !f.Reason.IsString:
			req.ReasonErr = Rejectf(CodeInvalidReason, `"reason" must be a string`)
		case utf8.RuneCountInString(f.Reason.Str) > MaxReasonChars:
			req.ReasonErr = Rejectf(CodeInvalidReason, `"reason" must be at most %d characters`, MaxReasonChars)
		default:
			req.Reason = f.Reason.Str
		}
	}
	if f.Emoji.Present {
		req.HasEmoji = true
		if !f.Emoji.IsString || !ValidEmoji(f.Emoji.Str) {
			req.EmojiErr = Rejectf(CodeInvalidReaction, `"emoji" must be one emoji of at most %d bytes`, MaxEmojiBytes)
		} else {
			req.Emoji = f.Emoji.Str
		}
	}
	return req, nil
}

// MaxSeconds bounds a ban's, a mute's or slow mode's duration: a year,
// far past any real use, and far from an overflow.
const MaxSeconds = 366 * 24 * 3600

// MaxReasonChars bounds a moderation reason: a line, not an essay; it is
// repeated to everyone in the room.
const MaxReasonChars = 200

// checkType sets req's type from the frame's, or rejects it.
func checkType(req *Request, t TypeField) *Reject {
	if !t.Present {
		return Rejectf(CodeUnknownType, `frame has no "type"; expected `+knownTypes)
	}
	if !t.IsString {
		return Rejectf(CodeUnknownType, `"type" must be a string; expected `+knownTypes)
	}
	switch name := t.Name; name {
	case TypeJoin, TypeMessage, TypePing, TypeEdit, TypeDelete,
		TypeKick, TypeBan, TypeUnban, TypeMute, TypeUnmute, TypeSlowMode,
		TypeTyping, TypeRead, TypeReact:
		req.Type = name
	default:
		return Rejectf(CodeUnknownType, "unknown type %q; expected "+knownTypes, truncate(name, 64))
	}
	return nil
}

// knownTypes lists the inbound types, for the errors that name them.
const knownTypes = "join, message, ping, edit, delete, kick, ban, unban, mute, unmute, slow_mode, typing, read or react"

// ParseSince parses a resume point: a non-negative integer, written as one
// (5, not 5.0, "5" or 5e0).
func ParseSince(s string) (int64, *Reject) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || (len(s) > 1 && s[0] == '0') || s[0] == '+' {
		return 0, Rejectf(CodeInvalidSince, `"since" must be a non-negative integer message id`)
	}
	return n, nil
}

// MaxUserIDChars bounds a userId; it is repeated in every frame the user causes.
const MaxUserIDChars = 64

// ValidUserID checks the userId rule: 1–64 characters, no control
// characters and no format characters (Unicode category Cf).
func ValidUserID(s string) *Reject {
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return Rejectf(CodeInvalidUserID, "userId must not be empty")
	}
	if n > MaxUserIDChars {
		return Rejectf(CodeInvalidUserID, "userId must be at most %d characters, got %d", MaxUserIDChars, n)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return Rejectf(CodeInvalidUserID, "userId must not contain control characters")
		}
		if unicode.Is(unicode.Cf, r) {
			// Bidi overrides (U+202E), zero-width joiners and the like make
			// one name look like another.
			return Rejectf(CodeInvalidUserID, "userId must not contain format characters (bidi controls, zero-width characters)")
		}
	}
	return nil
}

// ValidText checks a message text against the length limit.
func ValidText(s string, maxChars int) *Reject {
	if s == "" {
		return Rejectf(CodeInvalidMessage, `"text" must be a non-empty string`)
	}
	if n := utf8.RuneCountInString(s); n > maxChars {
		return Rejectf(CodeMessageTooLong, "text is %d characters; the limit is %d", n, maxChars)
	}
	return nil
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
