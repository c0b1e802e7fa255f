// Package config reads the Worker's vars and secrets into the settings of
// the room and of the front worker. It takes the vars as a lookup function,
// so it runs natively in tests; the worker passes one that reads its env.
package config

import (
	"strconv"
	"time"

	"github.com/chatroom/gochat/internal/auth"
	"github.com/chatroom/gochat/room"
)

// Lookup returns a var or secret, "" when it is unset or not a string.
type Lookup func(name string) string

// Room reads the room's tunables. A var that is unset keeps the default;
// a malformed one keeps it too and is reported through warn, so that a typo
// in wrangler.toml is logged instead of taking the service down.
func Room(get Lookup, warn func(string)) room.Config {
	cfg := room.DefaultConfig()
	idle := int(cfg.IdleTimeout / time.Second)
	rate := int(cfg.RatePerSecond)
	for _, v := range []struct {
		name string
		min  int
		dst  *int
	}{
		{"MAX_MESSAGE_CHARS", 1, &cfg.MaxTextChars},
		{"MAX_STORED_MESSAGES", 1, &cfg.KeepMessages},
		{"HISTORY_ON_JOIN", 1, &cfg.JoinHistory},
		{"RATE_LIMIT_BURST", 1, &cfg.RateBurst},
		{"RATE_LIMIT_PER_SECOND", 1, &rate},
		{"RATE_LIMIT_CLOSE_AFTER", 1, &cfg.CloseAfterRejects},
		{"IDLE_TIMEOUT_SECONDS", 0, &idle},
		{"MAX_CONNECTIONS_PER_ROOM", 1, &cfg.MaxConnections},
		{"PRESENCE_BROADCAST_LIMIT", 0, &cfg.PresenceLimit},
	} {
		s := get(v.name)
		if s == "" {
			continue
		}
		if n, err := strconv.Atoi(s); err == nil && n >= v.min {
			*v.dst = n
		} else {
			warn(v.name + " must be an integer of at least " + strconv.Itoa(v.min) + "; using the default")
		}
	}
	cfg.IdleTimeout = time.Duration(idle) * time.Second
	cfg.RatePerSecond = float64(rate)
	cfg.BlockedWords = room.ParseWords(get("BLOCKED_WORDS"))
	return cfg
}

// Front is what the front worker takes from the vars and secrets.
type Front struct {
	// Origins is ALLOWED_ORIGINS parsed; empty allows any.
	Origins []string
	// Secret is AUTH_SECRET; nil in open mode.
	Secret []byte
}

// FrontFrom reads the front worker's settings.
func FrontFrom(get Lookup) Front {
	f := Front{Origins: auth.ParseOrigins(get("ALLOWED_ORIGINS"))}
	if secret := get("AUTH_SECRET"); secret != "" {
		f.Secret = []byte(secret)
	}
	return f
}
