package client

import (
	"fmt"
	"math"
	"time"

	"github.com/chatroom/gochat/room/protocol"
)

// Event is one thing that happened, as delivered by Events: a *Message,
// *History, *MessageEdited, *MessageDeleted, *Moderated, *RoomSettings,
// *Reaction, *Typing, *Read, *ReadState, *UserJoined, *UserLeft, *Presence,
// *Error or *Status. The set is closed; use a type switch.
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
	case *MessageEdited:
		return ev.Raw
	case *MessageDeleted:
		return ev.Raw
	case *Moderated:
		return ev.Raw
	case *RoomSettings:
		return ev.Raw
	case *Reaction:
		return ev.Raw
	case *Typing:
		return ev.Raw
	case *Read:
		return ev.Raw
	case *ReadState:
		return ev.Raw
	}
	return nil
}

// Position returns the place in the room's sequence of an event that has
// one: a Message's id, or the ID of a MessageEdited, MessageDeleted,
// Moderated or Reaction. It is 0 for the others (a Read's ID is a message
// it names, not a place of its own). LastID is the highest position
// delivered.
func Position(ev Event) int64 {
	switch ev := ev.(type) {
	case *Message:
		return ev.ID
	case *MessageEdited:
		return ev.ID
	case *MessageDeleted:
		return ev.ID
	case *Moderated:
		return ev.ID
	case *Reaction:
		return ev.ID
	}
	return 0
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
	// EditedAt is when the text was last edited, as a History tells it; it
	// is zero for a message never edited, and for a live message (an edit
	// arrives as a MessageEdited).
	EditedAt time.Time
	// Reactions are the message's reactions as a History tells them (and
	// the messages API, protocol.StoredMessage): each emoji with its count
	// and the first protocol.ReactionUsers users, in the room's order. It
	// is nil for a message without any, and for a live message (reactions
	// arrive as Reaction events).
	Reactions []protocol.ReactionSummary
	// Raw is a live message's frame exactly as received; it is nil in a
	// History (whose Raw is the frame) and in what Send returns from one.
	Raw []byte
}

// History is the backlog that answers each join: the latest messages on a
// first join, only those missed on a resume. Messages and changes at or below
// the last position already delivered are left out, so across History,
// Message and the other positioned events every position arrives once. The
// client is open once it has been delivered.
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
	// Changes are, on a resume, what happened while away that is not a new
	// message: edits, deletions and reactions of messages already
	// delivered (*MessageEdited, *MessageDeleted, *Reaction) and
	// moderation events (*Moderated), in the room's order, those at or below the last
	// position already delivered left out. Each of them is also delivered
	// on Events as its own event, the same value, right after this History
	// and before the Status that says Open: a consumer that handles those
	// events live needs nothing else to end with the view of one that never
	// left, and must not apply Changes a second time. (An edit of a message
	// in Messages is already in its text and EditedAt, a reaction in its
	// Reactions; a message deleted while away is simply not there.)
	Changes []Event
	Raw     []byte
}

// MessageEdited is a message_edited frame: a message's text was replaced
// by its author. It arrives live, and among a resume's History.Changes.
type MessageEdited struct {
	// ID is the edit's own position in the room's sequence (which message
	// ids share); MessageID is the message it changed.
	ID        int64
	MessageID int64
	UserID    string
	Text      string
	EditedAt  time.Time
	Raw       []byte
}

// MessageDeleted is a message_deleted frame: a message is gone, its text
// with it, deleted By its author or a moderator.
type MessageDeleted struct {
	// ID is the deletion's position; MessageID the message that is gone.
	ID        int64
	MessageID int64
	By        string
	Time      time.Time
	Raw       []byte
}

// Action is a moderation action: what Moderate does, and what a Moderated
// event tells. Its value is the frame type that asks for it.
type Action string

// The moderation actions.
const (
	Kick   Action = protocol.TypeKick
	Ban    Action = protocol.TypeBan
	Unban  Action = protocol.TypeUnban
	Mute   Action = protocol.TypeMute
	Unmute Action = protocol.TypeUnmute
)

// actionEvent is the event type each action announces, and eventAction
// the reverse.
var (
	actionEvent = map[Action]string{
		Kick:   protocol.TypeUserKicked,
		Ban:    protocol.TypeUserBanned,
		Unban:  protocol.TypeUserUnbanned,
		Mute:   protocol.TypeUserMuted,
		Unmute: protocol.TypeUserUnmuted,
	}
	eventAction = map[string]Action{
		protocol.TypeUserKicked:   Kick,
		protocol.TypeUserBanned:   Ban,
		protocol.TypeUserUnbanned: Unban,
		protocol.TypeUserMuted:    Mute,
		protocol.TypeUserUnmuted:  Unmute,
	}
)

// Moderated is a moderation event (user_kicked, user_banned,
// user_unbanned, user_muted, user_unmuted): By did Kind to UserID. A
// kicked or banned user's connections are closed right after it; when that
// user is this client's, the client ends (see the package doc).
type Moderated struct {
	Kind Action
	// ID is the event's position in the room's sequence.
	ID     int64
	UserID string
	By     string
	// Reason is the moderator's reason, if any (kick, ban, mute).
	Reason string
	// Until is when a ban or a mute ends; it is zero when it lasts until it
	// is lifted, and for the other kinds.
	Until time.Time
	Time  time.Time
	Raw   []byte
}

// RoomSettings is a room_settings frame: the room's settings, sent to
// everyone when they change and to a joining client (before its History)
// when they are not the defaults.
type RoomSettings struct {
	// SlowModeSeconds is how long a member must wait between two messages;
	// 0 when slow mode is off. Moderators and services are never slowed.
	SlowModeSeconds int64
	Raw             []byte
}

// Reaction is a reaction frame: UserID toggled their reaction Emoji on
// message MessageID, adding it (Added) or taking it away. It takes a
// position, as an edit does; everyone gets it, the reactor too, live and
// among a resume's History.Changes. It is also what React returns.
type Reaction struct {
	// ID is the reaction's own position in the room's sequence;
	// MessageID is the message it is on.
	ID        int64
	MessageID int64
	Emoji     string
	UserID    string
	Added     bool
	Raw       []byte
}

// Typing is a typing frame: UserID is typing. It comes to the other
// members at most once per TypingInterval per user while they type, and is
// never stored; treat the user as typing until TypingTimeout has passed
// since the last one, or until their next message arrives.
type Typing struct {
	UserID string
	Raw    []byte
}

// Read is a read frame: UserID has read up to message ID. The room sends
// at most one a second per user, the latest position winning, to every
// connection but the one that moved it (so another connection of this
// client's user gets its own user's reads too).
type Read struct {
	UserID string
	ID     int64
	Raw    []byte
}

// ReadState is a read_state frame: where this client's user stands, told
// right after the History on every join (a resume's too). LastRead is the
// highest message id read, 0 for none; Unread how many messages follow it,
// at most protocol.MaxUnread; Capped says there are more.
type ReadState struct {
	LastRead int64
	Unread   int64
	Capped   bool
	Raw      []byte
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

func (*MessageEdited) event()  {}
func (*MessageDeleted) event() {}
func (*Moderated) event()      {}
func (*RoomSettings) event()   {}

func (*Reaction) event()  {}
func (*Typing) event()    {}
func (*Read) event()      {}
func (*ReadState) event() {}

// parseTime reads a wire timestamp; a malformed one is the zero time.
func parseTime(s string) time.Time {
	t, _ := time.Parse(protocol.TimeLayout, s)
	return t
}

func messageOf(m protocol.StoredMessage, raw []byte) Message {
	msg := Message{ID: m.ID, UserID: m.UserID, Text: m.Text, Time: parseTime(m.Timestamp), Timestamp: m.Timestamp, Raw: raw}
	if m.EditedAt != "" {
		msg.EditedAt = parseTime(m.EditedAt)
	}
	if len(m.Reactions) > 0 {
		msg.Reactions = m.Reactions
	}
	return msg
}

// millis reads a frame's count of milliseconds (retryAfterMs): none when it
// is not positive, and the longest duration when it is too large for one.
func millis(ms int64) time.Duration {
	switch {
	case ms <= 0:
		return 0
	case ms > math.MaxInt64/int64(time.Millisecond):
		return math.MaxInt64
	}
	return time.Duration(ms) * time.Millisecond
}

// untilOf reads a ban's or a mute's end: zero for none or null.
func untilOf(u *protocol.Until) time.Time {
	if u == nil || u.At == "" {
		return time.Time{}
	}
	return parseTime(u.At)
}

// changeOf decodes a frame that takes a position without being a message
// (message_edited, message_deleted, reaction, the moderation events), as
// live or in a History's changes; ok is false for anything else, a frame
// that does not decode, or one whose position, or the message it changes,
// is not a positive id (no room sends one; it could only be delivered out
// of place, or answer a request with a position that is none).
func changeOf(typ string, data []byte) (ev Event, ok bool) {
	switch typ {
	case protocol.TypeReaction:
		var f protocol.Reaction
		if protocol.Unmarshal(data, &f) != nil || f.ID <= 0 || f.MessageID <= 0 {
			return nil, false
		}
		return &Reaction{ID: f.ID, MessageID: f.MessageID, Emoji: f.Emoji, UserID: f.UserID, Added: f.Added, Raw: data}, true
	case protocol.TypeMessageEdited:
		var f protocol.MessageEdited
		if protocol.Unmarshal(data, &f) != nil || f.ID <= 0 || f.MessageID <= 0 {
			return nil, false
		}
		return &MessageEdited{ID: f.ID, MessageID: f.MessageID, UserID: f.UserID, Text: f.Text, EditedAt: parseTime(f.EditedAt), Raw: data}, true
	case protocol.TypeMessageDeleted:
		var f protocol.MessageDeleted
		if protocol.Unmarshal(data, &f) != nil || f.ID <= 0 || f.MessageID <= 0 {
			return nil, false
		}
		return &MessageDeleted{ID: f.ID, MessageID: f.MessageID, By: f.By, Time: parseTime(f.Timestamp), Raw: data}, true
	}
	kind, isModeration := eventAction[typ]
	if !isModeration {
		return nil, false
	}
	var f protocol.Moderation
	if protocol.Unmarshal(data, &f) != nil || f.ID <= 0 {
		return nil, false
	}
	m := &Moderated{Kind: kind, ID: f.ID, UserID: f.UserID, By: f.By, Until: untilOf(f.Until), Time: parseTime(f.Timestamp), Raw: data}
	if f.Reason != nil {
		m.Reason = *f.Reason
	}
	return m, true
}
