// Package config reads the Worker's vars and secrets into the settings of
// the room and of the front worker. It takes the vars as a lookup function,
// so it runs natively in tests; the worker passes one that reads its env.
package config

import (
	"strconv"
	"time"

	"github.com/chatroom/gochat/internal/auth"
	"github.com/chatroom/gochat/room"
	"github.com/chatroom/gochat/room/protocol"
)

// Lookup returns a var or secret, "" when it is unset or not a string.
type Lookup func(name string) string

// MaxMessageChars bounds MAX_MESSAGE_CHARS: a text escapes to at most six
// bytes a character, so a message frame stays far below
// protocol.MaxFrameBytes and always fits in a history frame.
const MaxMessageChars = 16384

// MaxPresenceLimit bounds PRESENCE_BROADCAST_LIMIT: the presence roster of
// that many users of 64 four-byte characters must stay far below
// protocol.MaxFrameBytes.
const MaxPresenceLimit = 2000

// MaxTypingInterval bounds TYPING_INTERVAL_SECONDS below the 6 s after which
// clients drop a typing state: a longer interval would make it flicker.
const MaxTypingInterval = 5

// MinHistoryBytes bounds HISTORY_MAX_BYTES from below: the largest message
// (MaxMessageChars, escaped) must fit in one history frame, or it could never
// be read back.
const MinHistoryBytes = 100_000

// Room reads the room's tunables. A var that is unset keeps the default;
// a malformed or out-of-range one keeps it too and is reported through warn,
// so that a typo in wrangler.toml is logged instead of taking the service
// down.
func Room(get Lookup, warn func(string)) room.Config {
	cfg := room.DefaultConfig()
	idle := int(cfg.IdleTimeout / time.Second)
	join := int(cfg.JoinTimeout / time.Second)
	typing := int(cfg.TypingInterval / time.Second)
	rate := int(cfg.RatePerSecond)
	frameRate := int(cfg.FramePerSecond)
	for _, v := range []struct {
		name     string
		min, max int
		dst      *int
	}{
		{"MAX_MESSAGE_CHARS", 1, MaxMessageChars, &cfg.MaxTextChars},
		{"MAX_STORED_MESSAGES", 1, unbounded, &cfg.KeepMessages},
		{"HISTORY_ON_JOIN", 1, unbounded, &cfg.JoinHistory},
		{"HISTORY_MAX_BYTES", MinHistoryBytes, protocol.MaxFrameBytes, &cfg.HistoryMaxBytes},
		{"RATE_LIMIT_BURST", 1, unbounded, &cfg.RateBurst},
		{"RATE_LIMIT_PER_SECOND", 1, unbounded, &rate},
		{"RATE_LIMIT_CLOSE_AFTER", 1, unbounded, &cfg.CloseAfterRejects},
		{"FRAME_RATE_BURST", 1, unbounded, &cfg.FrameBurst},
		{"FRAME_RATE_PER_SECOND", 1, unbounded, &frameRate},
		{"MAX_CONNECTIONS_PER_USER", 0, unbounded, &cfg.MaxConnectionsPerUser},
		{"MAX_CONNECTIONS_PER_IP", 0, unbounded, &cfg.MaxConnectionsPerIP},
		{"JOIN_TIMEOUT_SECONDS", 0, unbounded, &join},
		{"IDLE_TIMEOUT_SECONDS", 0, unbounded, &idle},
		{"MAX_CONNECTIONS_PER_ROOM", 1, unbounded, &cfg.MaxConnections},
		{"PRESENCE_BROADCAST_LIMIT", 0, MaxPresenceLimit, &cfg.PresenceLimit},
		{"TYPING_INTERVAL_SECONDS", 0, MaxTypingInterval, &typing},
	} {
		s := get(v.name)
		if s == "" {
			continue
		}
		if n, err := strconv.Atoi(s); err == nil && n >= v.min && n <= v.max {
			*v.dst = n
		} else if v.max == unbounded {
			warn(v.name + " must be an integer of at least " + strconv.Itoa(v.min) + "; using the default")
		} else {
			warn(v.name + " must be an integer from " + strconv.Itoa(v.min) + " to " + strconv.Itoa(v.max) + "; using the default")
		}
	}
	cfg.IdleTimeout = time.Duration(idle) * time.Second
	cfg.JoinTimeout = time.Duration(join) * time.Second
	cfg.TypingInterval = time.Duration(typing) * time.Second
	cfg.RatePerSecond = float64(rate)
	cfg.FramePerSecond = float64(frameRate)
	cfg.BlockedWords = room.ParseWords(get("BLOCKED_WORDS"))
	return cfg
}

// unbounded marks a var with no upper bound.
const unbounded = int(^uint(0) >> 1)

// Front is what the front worker takes from the vars and secrets.
type Front struct {
	// Origins is ALLOWED_ORIGINS parsed; empty allows any.
	Origins []string
	// Auth is the token policy; Auth.Secret (AUTH_SECRET) is nil in open
	// mode. AUTH_AUDIENCE, AUTH_ISSUER and AUTH_MAX_TTL_SECONDS fill the rest.
	Auth auth.Policy
	// LimitUpgrades is false when UPGRADE_RATE_LIMIT is "off": load tests lift
	// the per-address upgrade limit with it.
	LimitUpgrades bool
}

// FrontFrom reads the front worker's settings, reporting malformed ones
// through warn (they keep their defaults).
func FrontFrom(get Lookup, warn func(string)) Front {
	f := Front{
		Origins:       auth.ParseOrigins(get("ALLOWED_ORIGINS")),
		Auth:          auth.Policy{Audience: get("AUTH_AUDIENCE"), Issuer: get("AUTH_ISSUER"), MaxTTL: auth.DefaultMaxTTL},
		LimitUpgrades: get("UPGRADE_RATE_LIMIT") != "off",
	}
	if secret := get("AUTH_SECRET"); secret != "" {
		f.Auth.Secret = []byte(secret)
	}
	if s := get("AUTH_MAX_TTL_SECONDS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			f.Auth.MaxTTL = time.Duration(n) * time.Second
		} else {
			warn("AUTH_MAX_TTL_SECONDS must be an integer of at least 0; using the default")
		}
	}
	return f
}
