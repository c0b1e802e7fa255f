// Package room is the chat room as plain Go: for each event (a frame, a
// close, an alarm, an upgrade, an HTTP read) it decides what to send,
// persist and close, by the rules of joins, messages, presence, history and
// limits. The wire itself is package protocol's.
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

	"github.com/chatroom/gochat/room/protocol"
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
	// (and one page of the HTTP API) holds; HistoryMaxBytes bounds its bytes.
	MaxResume int
	// HistoryMaxBytes bounds a history frame (on join and on resume) and one
	// page of the HTTP API: the newest messages that fit are kept and
	// truncated is set. It keeps one join from costing megabytes, and it is
	// at most protocol.MaxFrameBytes.
	HistoryMaxBytes int
	// RateBurst and RatePerSecond shape each user's token bucket, shared by
	// all of the user's connections in the room: bursts of chat pass, floods
	// do not.
	RateBurst     int
	RatePerSecond float64
	// CloseAfterRejects closes a socket with 1008 once this many of its
	// frames in a row were refused by a rate limit: it is not listening.
	CloseAfterRejects int
	// FrameBurst and FramePerSecond shape each connection's frame budget,
	// which every frame that reaches the room draws on, of any type, valid
	// or not: a flood of junk costs the room no more than chat does.
	FrameBurst     int
	FramePerSecond float64
	// MaxConnectionsPerUser bounds one identity's sockets in the room (the
	// token's, or in open mode the joined userId), so that one client cannot
	// take every place in a room. Zero means no limit.
	MaxConnectionsPerUser int
	// MaxConnectionsPerIP bounds the sockets from one address (the
	// CF-Connecting-IP the front worker passes on). Zero means no limit.
	MaxConnectionsPerIP int
	// TypingInterval is the least time between two typing signals of one
	// user that the room forwards: the clients show "typing" for 6 s after
	// the last, so one every 2 s keeps it lit at a fraction of the frames.
	TypingInterval time.Duration
	// JoinTimeout closes a socket that has not joined within it, with 1008
	// "join timeout": a socket that only holds a place is not a member.
	// Zero disables it.
	JoinTimeout time.Duration
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
		MaxTextChars:          4096,
		MaxFrameBytes:         1 << 20,
		KeepMessages:          1000,
		JoinHistory:           50,
		MaxResume:             500,
		HistoryMaxBytes:       256 << 10,
		RateBurst:             10,
		RatePerSecond:         5,
		CloseAfterRejects:     50,
		FrameBurst:            30,
		FramePerSecond:        10,
		MaxConnectionsPerUser: 10,
		MaxConnectionsPerIP:   100,
		JoinTimeout:           60 * time.Second,
		TypingInterval:        2 * time.Second,
		IdleTimeout:           600 * time.Second,
		MaxConnections:        10000,
		PresenceLimit:         500,
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
	// accepted is the second the socket was accepted (for JoinTimeout), ip
	// its address, and expires its token's exp in Unix seconds (0: none).
	accepted int64
	ip       string
	expires  int64
	// role is the token's role, "" in open mode.
	role string
	// rejects counts the socket's frames refused by a rate limit in a row.
	rejects int
	// frames is the connection's frame budget; lastRefusal is when it last
	// answered a refused non-message frame (at most one a second).
	frames      bucket
	lastRefusal time.Time
	// bucket is the rate limit of the user the socket joined as, kept here
	// so that a message costs no lookup by name. The room's buckets map
	// stays the owner; a bucket is dropped only when the user's last
	// connection leaves, so no live session holds a dropped one.
	bucket *bucket
}

func (s *session) attachment(gone bool) Attachment {
	return Attachment{SID: s.sid, UserID: s.userID, Bound: s.bound, Active: s.active,
		Accepted: s.accepted, IP: s.ip, Expires: s.expires, Role: s.role, Gone: gone}
}

// Room is one chat room. Its fields are a cache over the sockets'
// attachments; see load.
type Room struct {
	cfg Config

	loaded   bool
	sessions map[uint64]*session
	// presence counts the open joined connections of each user.
	presence map[string]int
	// perBound and perIP count the open connections of each verified
	// identity and of each address, for the admission limits.
	perBound map[string]int
	perIP    map[string]int
	nextSID  uint64
	// members caches the sockets of joined sessions for fan-out; nil when stale.
	members []Socket
	// buckets are the joined users' rate limits; see bucket for why memory is
	// enough. A user's goes with their last connection, so the room's memory
	// is bounded by its open connections, never by the names it has seen.
	buckets map[string]*bucket
	// epoch is random per rebuild and goes into every socket tag, so that a
	// tag set before a rebuild never matches a session after it.
	epoch uint64
	// lastID caches the store's highest message id; -1 until read.
	lastID int64
	// mod is the moderation state, read once per rebuild; nil until then.
	mod *moderationCache
	// signals is the live signals' memory; nil until the first.
	signals *signals
	// alarmAt is a time no earlier than the alarm that is set, when known
	// (zero: unknown, as after a rebuild): a new deadline no earlier than it
	// needs no call to the runtime.
	alarmAt time.Time
}

// New returns a room with the given configuration and nothing cached.
func New(cfg Config) *Room {
	return &Room{cfg: cfg}
}

// Empty reports whether the room holds no session, so its cache can go.
func (r *Room) Empty() bool { return r.loaded && len(r.sessions) == 0 }

// moderates reports whether sess may act on others' messages and users: a
// token's moderator or service role. Open mode has no roles.
func (s *session) moderates() bool {
	return s.role == protocol.RoleModerator || s.role == protocol.RoleService
}
