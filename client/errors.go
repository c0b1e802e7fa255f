package client

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/chatroom/gochat/room/protocol"
)

// RoomError is an error frame from the room: a refused send (message_too_long,
// rate_limited, muted, slow_mode, ...), a refused edit, delete, reaction or
// moderation action (not_found, forbidden, invalid_id, invalid_reaction,
// ...) or a refused join. React and MarkRead also return one, with the
// room's code, for what they refuse without sending (an emoji that is not
// one, an id the room would refuse). It is also how the client ends when
// the room closes its connection because its user was kicked or banned
// (Code CodeKicked or protocol.CodeBanned).
type RoomError struct {
	// Code is the frame's code, one of protocol's Code* constants (or
	// CodeKicked).
	Code    string
	Message string
	// RetryAfter is when the next message will pass (rate_limited,
	// slow_mode).
	RetryAfter time.Duration
	// Until is when a mute or a ban ends (muted, banned), when the room
	// said; zero when it lasts until it is lifted, or for other codes.
	Until time.Time
	// Request is the type of the request the error answered
	// (protocol.TypeMessage, TypeEdit, TypeDelete, TypeKick, ...,
	// TypeSlowMode, TypeReact, or TypeRead for MarkRead's own refusal), or
	// "" when it answered none of this client's.
	Request string
	// Text is the refused send's or edit's text.
	Text string
	// MessageID is the message of a refused edit, delete or reaction, or
	// the id MarkRead refused.
	MessageID int64
	// UserID is the user of a refused moderation action.
	UserID string
	// Emoji is the emoji of a refused reaction.
	Emoji string
}

// Error reads "code: message", with the retry delay or the end of a mute or
// ban when there is one.
func (e *RoomError) Error() string {
	msg := e.Code + ": " + e.Message
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %v)", e.RetryAfter)
	}
	if !e.Until.IsZero() {
		msg += " (until " + e.Until.Format(time.RFC3339) + ")"
	}
	return msg
}

// CodeKicked is the Code of the RoomError that ends a client whose user was
// kicked (a 4003 close with reason "kicked"). A ban's is protocol.CodeBanned.
const CodeKicked = "kicked"

// HTTPError is an HTTP request the server refused: a WebSocket upgrade or a
// room API call. Code and Message come from the JSON error body.
type HTTPError struct {
	StatusCode int
	Code       string
	Message    string
	// Until is when a ban ends, for the 403 "banned" that refuses a banned
	// user's upgrade; zero when it lasts until it is lifted.
	Until time.Time
}

// Error reads "HTTP status: code: message".
func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		msg += ": " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

var (
	// ErrClosed is returned by Send and Connect after Close, and by a Send
	// still waiting when Close was called.
	ErrClosed = errors.New("client: closed")
	// ErrQueueFull is returned by a Send made while not joined when
	// Options.QueueSize sends already wait. The text was not sent.
	ErrQueueFull = errors.New("client: not connected and the send queue is full; the message was not sent")
	// ErrUnconfirmed is returned by a Send whose connection dropped before
	// the room answered, when the resumed history was truncated: the room
	// may or may not have stored the text, and it is not sent again.
	ErrUnconfirmed = errors.New("client: the connection dropped before the room confirmed the request and the resumed history cannot tell whether it was carried out")
	// ErrReset is returned by an Edit or a Delete that waited for a
	// connection when the room turned out to no longer know the resume
	// point (History.Reset): its message ids may now name other messages,
	// so it was not sent.
	ErrReset = errors.New("client: the room's history started over; the edit or delete was not sent, since its message id may now name another message")
	// ErrNotConnected is returned by Typing and React while the client is
	// not joined (connecting, reconnecting, or before Connect): they are
	// not queued. Nothing was sent.
	ErrNotConnected = errors.New("client: not connected; typing and reactions are not queued, nothing was sent")
)

// fatalJoinCodes are the join refusals that no retry can heal.
var fatalJoinCodes = map[string]bool{
	protocol.CodeInvalidUserID: true,
	protocol.CodeForbidden:     true,
	protocol.CodeAlreadyJoined: true,
	protocol.CodeBanned:        true,
}

// answers lists, for each kind of request, the error codes that can answer
// it. The room answers a connection's requests in order, each with its echo
// or an error, so an error answers the oldest request in flight that can
// get it (a frame the room's frame budget drops unanswered cannot then
// take the answer of a later request of another kind).
var answers = map[opKind]map[string]bool{
	opMessage: set(protocol.CodeInvalidMessage, protocol.CodeMessageTooLong, protocol.CodeRateLimited,
		protocol.CodeContentBlocked, protocol.CodeNotJoined, protocol.CodeStorage, protocol.CodeForbidden,
		protocol.CodeMuted, protocol.CodeSlowMode),
	opEdit: set(protocol.CodeInvalidMessage, protocol.CodeMessageTooLong, protocol.CodeRateLimited,
		protocol.CodeContentBlocked, protocol.CodeNotJoined, protocol.CodeStorage, protocol.CodeForbidden,
		protocol.CodeNotFound, protocol.CodeInvalidID),
	opDelete: set(protocol.CodeRateLimited, protocol.CodeNotJoined, protocol.CodeStorage, protocol.CodeForbidden,
		protocol.CodeNotFound, protocol.CodeInvalidID),
	opModerate: set(protocol.CodeRateLimited, protocol.CodeStorage, protocol.CodeForbidden, protocol.CodeNotFound,
		protocol.CodeInvalidUserID, protocol.CodeInvalidSeconds, protocol.CodeInvalidReason),
	opSlowMode: set(protocol.CodeRateLimited, protocol.CodeStorage, protocol.CodeForbidden, protocol.CodeInvalidSeconds),
	opReact: set(protocol.CodeInvalidReaction, protocol.CodeTooManyReactions, protocol.CodeNotFound, protocol.CodeMuted,
		protocol.CodeRateLimited, protocol.CodeNotJoined, protocol.CodeStorage, protocol.CodeInvalidID),
}

func set(codes ...string) map[string]bool {
	m := make(map[string]bool, len(codes))
	for _, c := range codes {
		m[c] = true
	}
	return m
}

// fatal reports whether err ends the client: a refusal that a retry cannot
// change.
func fatal(err error) bool {
	var he *HTTPError
	if errors.As(err, &he) {
		switch he.StatusCode {
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
			return true
		}
		return false
	}
	var re *RoomError
	return errors.As(err, &re) && fatalJoinCodes[re.Code]
}
