package config_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/chatroom/gochat/internal/auth"
	"github.com/chatroom/gochat/internal/config"
	"github.com/chatroom/gochat/room"
)

func vars(m map[string]string) config.Lookup { return func(name string) string { return m[name] } }

func TestRoom(t *testing.T) {
	t.Parallel()
	def := room.DefaultConfig()
	tests := []struct {
		name  string
		vars  map[string]string
		want  func(*room.Config)
		warns []string
	}{
		{"no vars: the defaults", nil, func(*room.Config) {}, nil},
		{"every var", map[string]string{
			"MAX_MESSAGE_CHARS": "100", "MAX_STORED_MESSAGES": "20", "HISTORY_ON_JOIN": "7",
			"RATE_LIMIT_BURST": "3", "RATE_LIMIT_PER_SECOND": "2", "RATE_LIMIT_CLOSE_AFTER": "9",
			"IDLE_TIMEOUT_SECONDS": "30", "MAX_CONNECTIONS_PER_ROOM": "40", "PRESENCE_BROADCAST_LIMIT": "5",
			"BLOCKED_WORDS": " Darn, heck ,,", "HISTORY_MAX_BYTES": "500000", "FRAME_RATE_BURST": "4",
			"FRAME_RATE_PER_SECOND": "3", "MAX_CONNECTIONS_PER_USER": "2", "MAX_CONNECTIONS_PER_IP": "0",
			"JOIN_TIMEOUT_SECONDS": "5", "TYPING_INTERVAL_SECONDS": "1",
		}, func(c *room.Config) {
			c.TypingInterval = time.Second
			c.MaxTextChars, c.KeepMessages, c.JoinHistory = 100, 20, 7
			c.RateBurst, c.RatePerSecond, c.CloseAfterRejects = 3, 2, 9
			c.IdleTimeout, c.MaxConnections, c.PresenceLimit = 30*time.Second, 40, 5
			c.BlockedWords = []string{"darn", "heck"}
			c.HistoryMaxBytes, c.FrameBurst, c.FramePerSecond = 500000, 4, 3
			c.MaxConnectionsPerUser, c.MaxConnectionsPerIP, c.JoinTimeout = 2, 0, 5*time.Second
		}, nil},
		{"out of range: a frame limit past 1 MiB, a text that could not fit", map[string]string{
			"HISTORY_MAX_BYTES": "2000000", "MAX_MESSAGE_CHARS": "100000", "PRESENCE_BROADCAST_LIMIT": "10000",
			"TYPING_INTERVAL_SECONDS": "6",
		}, func(*room.Config) {}, []string{
			"MAX_MESSAGE_CHARS must be an integer from 1 to 16384; using the default",
			"HISTORY_MAX_BYTES must be an integer from 100000 to 1048576; using the default",
			"PRESENCE_BROADCAST_LIMIT must be an integer from 0 to 2000; using the default",
			"TYPING_INTERVAL_SECONDS must be an integer from 0 to 5; using the default",
		}},
		{"zero turns the idle timeout and presence broadcasts off", map[string]string{
			"IDLE_TIMEOUT_SECONDS": "0", "PRESENCE_BROADCAST_LIMIT": "0",
		}, func(c *room.Config) { c.IdleTimeout, c.PresenceLimit = 0, 0 }, nil},
		{"malformed and too small values keep the default, with a warning", map[string]string{
			"MAX_MESSAGE_CHARS": "lots", "RATE_LIMIT_BURST": "0", "IDLE_TIMEOUT_SECONDS": "-1", "HISTORY_ON_JOIN": "5.0",
		}, func(*room.Config) {}, []string{
			"MAX_MESSAGE_CHARS must be an integer from 1 to 16384; using the default",
			"HISTORY_ON_JOIN must be an integer of at least 1; using the default",
			"RATE_LIMIT_BURST must be an integer of at least 1; using the default",
			"IDLE_TIMEOUT_SECONDS must be an integer of at least 0; using the default",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var warns []string
			got := config.Room(vars(tt.vars), func(s string) { warns = append(warns, s) })
			want := def
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Room() = %+v\nwant      %+v", got, want)
			}
			if !reflect.DeepEqual(warns, tt.warns) {
				t.Errorf("warnings = %q, want %q", warns, tt.warns)
			}
		})
	}
}

func TestFrontFrom(t *testing.T) {
	t.Parallel()
	var warns []string
	warn := func(s string) { warns = append(warns, s) }
	open := config.FrontFrom(vars(nil), warn)
	if open.Auth.Secret != nil || len(open.Origins) != 0 || !open.LimitUpgrades || open.Auth.MaxTTL != auth.DefaultMaxTTL {
		t.Errorf("no vars = %+v, want open mode, any origin, upgrades limited, a day's TTL", open)
	}
	f := config.FrontFrom(vars(map[string]string{
		"AUTH_SECRET": "s3cret", "ALLOWED_ORIGINS": "https://a.example, https://b.example",
		"AUTH_AUDIENCE": "gochat", "AUTH_ISSUER": "https://id.example", "AUTH_MAX_TTL_SECONDS": "3600",
		"UPGRADE_RATE_LIMIT": "off",
	}), warn)
	if string(f.Auth.Secret) != "s3cret" || f.Auth.Audience != "gochat" || f.Auth.Issuer != "https://id.example" || f.Auth.MaxTTL != time.Hour {
		t.Errorf("auth = %+v", f.Auth)
	}
	if f.LimitUpgrades {
		t.Error("UPGRADE_RATE_LIMIT=off left the upgrade limit on")
	}
	if want := []string{"https://a.example", "https://b.example"}; !reflect.DeepEqual(f.Origins, want) {
		t.Errorf("origins = %q, want %q", f.Origins, want)
	}
	if len(warns) != 0 {
		t.Errorf("warnings %q", warns)
	}
	bad := config.FrontFrom(vars(map[string]string{"AUTH_MAX_TTL_SECONDS": "a day"}), warn)
	if bad.Auth.MaxTTL != auth.DefaultMaxTTL || len(warns) != 1 {
		t.Errorf("a malformed TTL: %v, warnings %q", bad.Auth.MaxTTL, warns)
	}
}
