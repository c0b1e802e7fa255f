package client

import (
	"fmt"
	"time"

	"github.com/chatroom/gochat/room/protocol"
)

// Event is one thing that happened, as delivered by Events: a *Message,
// *History, *UserJoined, *UserLeft, *Presence, *Error or *Status. The set is
// closed; use a type switch.
type Event interface{ event() }

// Raw is the frame an event came from, exactly as received, or nil for a
// Status (which no frame carries).
func Raw(ev Event) []byte {
	switch ev := ev.(type) {
	case *Message:
		return ev.Raw
	case *History:
		return ev.Raw
	case *UserJoined:
		return ev.Raw
	case *UserLeft:
		return ev.Raw
	case *Presence:
		return ev.Raw
	case *Error:
		return ev.Raw
	}
	return nil
}

// Message is a chat message: a live one on Events, one entry of a History, or
// what Send returns.
type Message struct {
	// ID is the message's place in the room's history; ids strictly increase.
	ID     int64
	UserID string
	Text   string
	// Time is the server's timestamp, parsed; Timestamp is it as written.
	Time      time.Time
	Timestamp string
	// Raw is a live message's frame exactly as received; it is nil in a
	// History (whose Raw is the frame) and in what Send returns from one.
	Raw []byte
}

// History is the backlog that answers each join: the latest messages on a
// first join, only those missed on a resume. Messages at or below the last id
// already delivered are left out, so across History and Message every id
// arrives once. The client is open once it has been delivered.
type History struct {
	Messages []Message
	// Truncated says older messages were left out: more than the room sends
	// followed the resume point, or some were already pruned.
	Truncated bool
	// Resumed says the join carried "since".
	Resumed bool
	// Reset says the room no longer knew the resume point (invalid_since):
	// this history starts over from the room's latest messages.
	Reset bool
	Raw   []byte
}

// UserJoined is a user_joined frame: a user's first connection joined. The
// client's own join is announced to itself too, on every (re)join.
type UserJoined struct {
	UserID string
	Time   time.Time
	Raw    []byte
}

// UserLeft is a user_left frame: a user's last connection closed.
type UserLeft struct {
	UserID string
	Time   time.Time
	Raw    []byte
}

// Presence is the room's roster, sent after each join and when a large room
// crosses its presence limit.
type Presence struct {
	// Users lists the joined users, sorted; it is empty when Truncated.
	Users []string
	// Count is how many users are joined: len(Users), or the summary's count.
	Count int
	// Truncated says the room is large and sends a count instead of the list
	// (and no longer announces joins and leaves); RoomInfo lists them.
	Truncated bool
	Raw       []byte
}

// Error is an error frame from the room. Err is its *RoomError; when it
// refused a send, that Send returns the same error.
type Error struct {
	Err *RoomError
	Raw []byte
}

// State is the connection's state, reported by Status events.
type State int

// The states, in the order a connection goes through them.
const (
	// Connecting: the socket is open and the join is not answered yet.
	Connecting State = iota + 1
	// Open: the room answered the join with its history; sends go out.
	Open
	// Reconnecting: the connection was lost; the next attempt waits for
	// Status.Delay. Sends wait in the queue.
	Reconnecting
	// Closed: the client has ended, by Close or a fatal error in Status.Err.
	Closed
)

// String names the state as the browser client does: connecting, open,
// reconnecting, closed.
func (s State) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Open:
		return "open"
	case Reconnecting:
		return "reconnecting"
	case Closed:
		return "closed"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Status is a change of the connection's state.
type Status struct {
	State State
	// Attempt counts the reconnect attempts since the last successful join
	// (Reconnecting only).
	Attempt int
	// Delay is the wait before this attempt (Reconnecting only).
	Delay time.Duration
	// Err is why: the lost connection's error when Reconnecting, the fatal
	// error when Closed (nil after Close).
	Err error
}

func (*Message) event()    {}
func (*History) event()    {}
func (*UserJoined) event() {}
func (*UserLeft) event()   {}
func (*Presence) event()   {}
func (*Error) event()      {}
func (*Status) event()     {}

// parseTime reads a wire timestamp; a malformed one is the zero time.
func parseTime(s string) time.Time {
	t, _ := time.Parse(protocol.TimeLayout, s)
	return t
}

func messageOf(m protocol.StoredMessage, raw []byte) Message {
	return Message{ID: m.ID, UserID: m.UserID, Text: m.Text, Time: parseTime(m.Timestamp), Timestamp: m.Timestamp, Raw: raw}
}
