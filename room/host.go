package room

import (
	"time"

	"github.com/chatroom/gochat/room/protocol"
)

// Socket is one accepted WebSocket as the room sees it.
type Socket interface {
	// Send sends one text frame. It fails when the peer is gone.
	Send(frame []byte) error
	// Close starts or completes the closing handshake.
	Close(code int, reason string) error
	// Attachment returns what SetAttachment stored, or nil if nothing was.
	Attachment() ([]byte, error)
	// SetAttachment stores a small value that survives hibernation.
	SetAttachment(data []byte) error
	// AutoResponseAt is when the runtime last answered this socket's exact
	// ping on the room's behalf, or the zero time.
	AutoResponseAt() time.Time
	// Open reports whether the socket is open: neither closing nor closed.
	Open() bool
}

// Fast is what a Socket may also offer to spare the room work on the hot
// path. The room works the same without it; it only reads less.
type Fast interface {
	// Tag returns what SetTag stored on this socket's runtime object, or 0.
	// Unlike the attachment it is lost when the object is evicted; it saves
	// decoding the attachment on every frame. The room puts a per-rebuild
	// epoch into every tag, so a tag from before a rebuild never matches.
	Tag() uint64
	SetTag(tag uint64)
	// Predecoded hands over the socket's attachment as the host already
	// decoded it with the whole room's in one piece (DecodeAttachments), so
	// that a wake decodes one array instead of one attachment per socket.
	// ok is false when there is nothing to hand over; the host hands over
	// only what it read, once, since the attachment may change after.
	Predecoded() (att *Attachment, ok bool)
}

// Host is the runtime around a room for the duration of one event.
type Host interface {
	// Now is the time of the current event.
	Now() time.Time
	// Sockets returns every accepted socket that is open or closing. A
	// rebuild makes members of the open ones only: the room closes every
	// socket it says goodbye to, so a closing one is never a member, even if
	// its gone mark could not be written, and its close event, if it comes,
	// still finds it by attachment. The closing ones still count for session
	// ids, so that no new socket takes the id of one whose close is pending.
	Sockets() []Socket
	// Broadcast sends one text frame to every socket in to but the one at
	// index skip (-1: none), in one call to the runtime, and returns the
	// sockets whose send failed. to is the room's cached member list: the
	// same slice until the membership changes, so a host may cache what it
	// derives from it.
	Broadcast(frame []byte, to []Socket, skip int) []Socket
	// Store is the room's durable message history.
	Store() Store
	// Alarm is the room's single alarm.
	Alarm() Alarm
}

// Alarm is a room's single alarm, which wakes the object (Room.Alarm).
type Alarm interface {
	// Set schedules it at at.
	Set(at time.Time)
	// Ensure schedules it at at unless one is already set no later; it need
	// not take effect before the event ends.
	Ensure(at time.Time)
	// Delete cancels it.
	Delete()
}

// Store is the room's message history. Writes are durable once the event
// that made them ends; the runtime holds back every frame the event sent
// until then, so nobody sees a message that could still be lost.
type Store interface {
	// Append stores m, whose id is one above the last position stored, and
	// prunes every message and change more than keep positions old. frame is m's broadcast frame (the JSON
	// of a ChatMessage), which a store may persist from instead of m's
	// fields. On error nothing is stored.
	Append(m protocol.StoredMessage, frame []byte, keep int) error
	// After returns the latest limit messages with an id above since and,
	// when before is not 0, below before, oldest first, and whether more
	// such messages than limit were left out. It may also stop short once
	// about maxBytes of JSON are read, leaving out older ones: no query may
	// build a value past SQLite's 2 MB limit, whatever is stored. Positions
	// are one sequence of messages and changes (an Append that fails uses
	// none); the room tells a message left out from a change by Accounted.
	After(since, before int64, limit, maxBytes int) ([]protocol.StoredMessage, bool, error)
	// LastID is the highest position stored (a message's id, or a
	// change's), or 0.
	LastID() (int64, error)
	// Author returns who posted message id, and false when the room holds
	// no such message.
	Author(id int64) (string, bool, error)
	// Edit replaces message id's text, records editedAt, and stores frame
	// (its message_edited) as the change at position pos.
	Edit(id int64, text, editedAt string, pos int64, frame []byte) error
	// Delete removes message id, its text and its earlier edits from
	// storage, and stores frame (its message_deleted) as the change at pos.
	Delete(id, pos int64, frame []byte) error
	// Changes returns, in order, the change frames after since that concern
	// messages at or before since: at most limit of them, stopping near
	// maxBytes, and whether any were left out.
	Changes(since int64, limit, maxBytes int) ([]protocol.Raw, bool, error)
	// Accounted counts the positions strictly between from and to that hold
	// no message by design: changes, and deleted messages. With it the room
	// tells a message that was left out (pruned) from a gap that is a change.
	Accounted(from, to int64) (int64, error)
	// Moderation reads the room's moderation state; a room that never had
	// any has none, and the read stores nothing.
	Moderation() (ModerationState, error)
	// Moderate stores one moderation action: its effect on the state, its
	// event frame at its position (when it has one), and its audit entry.
	Moderate(a Action) error
	// ReadMarker is user's read marker, the zero marker when none.
	ReadMarker(user string) (ReadMarker, error)
	// SetReadMarker stores user's read marker.
	SetReadMarker(user string, m ReadMarker) error
	// PendingReads are the read markers whose Last is past their Shown, by
	// user: the ones the other members have not been told of yet.
	PendingReads() (map[string]ReadMarker, error)
	// Reads are the read positions of the users listed that have one.
	Reads(users []string) (map[string]int64, error)
	// Unread counts the messages after id, counting no further than limit.
	Unread(after int64, limit int) (int64, error)
	// ReactionState tells whether user reacted to message id with emoji,
	// whether anyone did, and how many distinct emoji the message holds.
	ReactionState(id int64, emoji, user string) (had, present bool, distinct int, err error)
	// React adds (or, added false, removes) user's emoji on message id, and
	// stores frame (its reaction) as the change at pos.
	React(id int64, emoji, user string, added bool, pos int64, frame []byte) error
	// RememberService records that user acts with a service token.
	RememberService(user string) error
	// LastMessageAt is when user last posted a message the room still
	// holds, or the zero time: slow mode after a rebuild.
	LastMessageAt(user string) (time.Time, error)
	// BanList lists the bans in force at nowMs (Unix ms).
	BanList(nowMs int64) (protocol.BanEntries, error)
	// Audit returns the latest limit entries of the moderation log below
	// before (0: from the newest), newest first, and whether older ones
	// exist.
	Audit(before int64, limit int) (protocol.AuditEntries, bool, error)
	// Idempotent returns the answer remembered under key, if it was within
	// the last IdempotencyWindow (nowMs is now, in Unix ms).
	Idempotent(key string, nowMs int64) ([]byte, bool, error)
	// Remember keeps answer under key: at least the last IdempotencyKeys
	// keys, and every key of the last IdempotencyWindow.
	Remember(key string, answer []byte, nowMs int64) error
}

// IdempotencyWindow is how long a POST's Idempotency-Key is remembered: a
// backend retrying after a timeout does so within minutes, and a day covers
// a retry queue that waited out an outage.
const IdempotencyWindow = 24 * time.Hour

// IdempotencyKeys is how many of the latest keys are kept whatever their
// age, so that a busy room never forgets a key a retry may still carry.
const IdempotencyKeys = 1000

// ModerationState is who is banned and muted, and the room's settings.
type ModerationState struct {
	Bans, Mutes map[string]Restriction
	// Services are the identities seen with a service token here: a
	// moderator may not ban or mute them, connected or not.
	Services map[string]bool
	// SlowModeSeconds is the least time between two messages of a member;
	// 0 is off.
	SlowModeSeconds int64
}

// Restriction is one ban or mute. Until is its end in Unix milliseconds,
// 0 for one that lasts until it is lifted; it ends by itself then.
type Restriction struct {
	Until int64
}

// active reports whether r still holds at now.
func (r Restriction) active(now time.Time) bool { return r.Until == 0 || now.UnixMilli() < r.Until }

// Action is one moderation action as a Store keeps it.
type Action struct {
	// Kind is the frame type that did it: kick, ban, unban, mute, unmute,
	// slow_mode, or delete (a moderator's deletion of another's message).
	Kind   string
	UserID string
	By     string
	Reason string
	// Until is a ban's or a mute's end (Unix ms, 0: until lifted).
	Until int64
	// Seconds is slow mode's setting; MessageID a deleted message.
	Seconds   int64
	MessageID int64
	// Pos and Frame are the event's position and broadcast frame; 0 and nil
	// for an action without one (slow_mode, delete: its change is stored by
	// Delete).
	Pos   int64
	Frame []byte
	// At is when it happened, as a wire timestamp.
	At string
}

// Inbound is one frame as the runtime delivered it.
type Inbound struct {
	// Text is a text frame's UTF-8. The room only reads it, during the call.
	Text []byte
	// Binary marks a binary frame; its bytes are not needed.
	Binary bool
	// Oversize marks a frame the host found larger than
	// Config.MaxFrameBytes before copying it (a host that can tell a frame's
	// size first should not copy such a frame at all).
	Oversize bool
}

// ReadMarker is how far one user has read, and what the other members were
// told of it: kept in storage, so that a coalesced marker still goes out
// after an eviction.
type ReadMarker struct {
	// Last is the id of the last message the user has read.
	Last int64
	// Shown is the position the others were last told, and ShownAt when
	// (Unix ms).
	Shown, ShownAt int64
}
