package client

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/chatroom/gochat/room/protocol"
)

// RoomError is an error frame from the room: a refused send (message_too_long,
// rate_limited, content_blocked, ...) or a refused join.
type RoomError struct {
	// Code is the frame's code, one of protocol's Code* constants.
	Code    string
	Message string
	// RetryAfter is when the next message will pass (rate_limited only).
	RetryAfter time.Duration
	// Text is the refused send's text, when the error answered a send.
	Text string
}

// Error reads "code: message", with the retry delay when there is one.
func (e *RoomError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%s: %s (retry after %v)", e.Code, e.Message, e.RetryAfter)
	}
	return e.Code + ": " + e.Message
}

// HTTPError is an HTTP request the server refused: a WebSocket upgrade or a
// room API call. Code and Message come from the JSON error body.
type HTTPError struct {
	StatusCode int
	Code       string
	Message    string
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
	ErrUnconfirmed = errors.New("client: the connection dropped before the room confirmed the message and the resumed history is truncated; it may or may not have been stored")
)

// fatalJoinCodes are the join refusals that no retry can heal.
var fatalJoinCodes = map[string]bool{
	protocol.CodeInvalidUserID: true,
	protocol.CodeForbidden:     true,
	protocol.CodeAlreadyJoined: true,
	"banned":                   true,
}

// messageCodes are the error codes that answer one message: each refuses the
// oldest send on the connection that the room has not answered yet.
var messageCodes = map[string]bool{
	protocol.CodeInvalidMessage: true,
	protocol.CodeMessageTooLong: true,
	protocol.CodeRateLimited:    true,
	protocol.CodeContentBlocked: true,
	protocol.CodeNotJoined:      true,
	protocol.CodeStorage:        true,
	protocol.CodeForbidden:      true,
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
