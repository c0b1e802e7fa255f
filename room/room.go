// Package room is the chat room as plain Go: the wire protocol, its
// validation, presence, and what to send, persist and close for each event.
//
// A Room never talks to the Workers runtime directly. The worker hands it a
// Host (the accepted sockets, the clock and the fan-out) with every event, and
// the Room answers through the Socket and Host interfaces. All state the Room
// keeps in memory is a cache: it is rebuilt from the sockets' attachments
// whenever the runtime may have evicted the object, and gives the same answers
// either way.
package room

import (
	"time"
)

// Config holds the room's tunables. The zero value is not useful; start from
// DefaultConfig.
type Config struct {
	// MaxTextChars bounds a message's text, in Unicode characters, so that a
	// single message stays readable and cheap to fan out.
	MaxTextChars int
	// MaxFrameBytes bounds an inbound frame; larger ones close the socket with
	// 1009, the protocol's message-too-big code.
	MaxFrameBytes int
	// KeepMessages is how many of the latest messages a room stores; older
	// ones are pruned so that a room's storage stays bounded.
	KeepMessages int
	// JoinHistory is how many of the latest messages a joining socket gets,
	// enough to follow the conversation.
	JoinHistory int
	// MaxResume bounds how many messages the history of a join with "since"
	// (and one page of the HTTP API) holds. It bounds the count, not the
	// bytes: at the defaults such a frame can reach about 12 MB (500
	// messages of 4096 characters, with each < escaped to six bytes).
	MaxResume int
	// RateBurst and RatePerSecond shape each user's token bucket, shared by
	// all of the user's connections in the room: bursts of chat pass, floods
	// do not.
	RateBurst     int
	RatePerSecond float64
	// CloseAfterRejects closes a socket with 1008 once this many of its
	// messages in a row were rate limited: it is not listening.
	CloseAfterRejects int
	// BlockedWords are rejected with content_blocked, matched
	// case-insensitively on word boundaries. Lower case.
	BlockedWords []string
	// IdleTimeout closes a connection that has sent nothing for this long,
	// with 1000 "idle timeout"; zero disables it.
	IdleTimeout time.Duration
	// MaxConnections is the most sockets a room accepts; the next upgrade
	// gets 503 room_full.
	MaxConnections int
	// PresenceLimit is the most distinct users for which joins and leaves
	// are announced to everyone. Above it a join storm would cost a send to
	// every member per join (quadratic), so the room goes quiet: a joiner
	// hears only its own user_joined and a roster summary with the count, the
	// full roster is GET /api/rooms/{room}, and one presence frame goes to all
	// when the room crosses the limit either way.
	PresenceLimit int
}

// DefaultConfig is the configuration the worker runs with unless told otherwise.
func DefaultConfig() Config {
	return Config{
		MaxTextChars:      4096,
		MaxFrameBytes:     1 << 20,
		KeepMessages:      1000,
		JoinHistory:       50,
		MaxResume:         500,
		RateBurst:         10,
		RatePerSecond:     5,
		CloseAfterRejects: 50,
		IdleTimeout:       600 * time.Second,
		MaxConnections:    10000,
		PresenceLimit:     500,
	}
}

// session is one accepted socket and its identity.
type session struct {
	sid  uint64
	sock Socket
	// userID is the joined identity, empty until the socket joins.
	userID string
	// bound is the identity a verified token gave the socket at accept;
	// empty in open mode. A bound socket can only ever be that user.
	bound string
	// active is the last second the socket sent anything, rounded up, as
	// its attachment keeps it.
	active int64
	// rejects counts the socket's rate-limited messages in a row.
	rejects int
	// bucket is the rate limit of bucketOf, the user this socket last spoke
	// as: a message then costs no lookup by name. The room's buckets map
	// stays the owner; buckets are never replaced while the cache lives.
	bucket   *bucket
	bucketOf string
}

func (s *session) attachment(gone bool) Attachment {
	return Attachment{SID: s.sid, UserID: s.userID, Bound: s.bound, Active: s.active, Gone: gone}
}

// Room is one chat room. Its fields are a cache over the sockets'
// attachments; see load.
type Room struct {
	cfg Config

	loaded   bool
	sessions map[uint64]*session
	// presence counts the open joined connections of each user.
	presence map[string]int
	nextSID  uint64
	// members caches the sockets of joined sessions for fan-out; nil when stale.
	members []Socket
	// buckets are the users' rate limits; see bucket for why memory is enough.
	buckets map[string]*bucket
	// epoch is random per rebuild and goes into every socket tag, so that a
	// tag set before a rebuild never matches a session after it.
	epoch uint64
	// lastID caches the store's highest message id; -1 until read.
	lastID int64
}

// New returns a room with the given configuration and nothing cached.
func New(cfg Config) *Room {
	return &Room{cfg: cfg}
}

// Empty reports whether the room holds no session, so its cache can go.
func (r *Room) Empty() bool { return r.loaded && len(r.sessions) == 0 }
