package config_test

import (
	"reflect"
	"testing"
	"time"

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
			"BLOCKED_WORDS": " Darn, heck ,,",
		}, func(c *room.Config) {
			c.MaxTextChars, c.KeepMessages, c.JoinHistory = 100, 20, 7
			c.RateBurst, c.RatePerSecond, c.CloseAfterRejects = 3, 2, 9
			c.IdleTimeout, c.MaxConnections, c.PresenceLimit = 30*time.Second, 40, 5
			c.BlockedWords = []string{"darn", "heck"}
		}, nil},
		{"zero turns the idle timeout and presence broadcasts off", map[string]string{
			"IDLE_TIMEOUT_SECONDS": "0", "PRESENCE_BROADCAST_LIMIT": "0",
		}, func(c *room.Config) { c.IdleTimeout, c.PresenceLimit = 0, 0 }, nil},
		{"malformed and too small values keep the default, with a warning", map[string]string{
			"MAX_MESSAGE_CHARS": "lots", "RATE_LIMIT_BURST": "0", "IDLE_TIMEOUT_SECONDS": "-1", "HISTORY_ON_JOIN": "5.0",
		}, func(*room.Config) {}, []string{
			"MAX_MESSAGE_CHARS must be an integer of at least 1; using the default",
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
	open := config.FrontFrom(vars(nil))
	if open.Secret != nil || len(open.Origins) != 0 {
		t.Errorf("no vars = %+v, want open mode and any origin", open)
	}
	f := config.FrontFrom(vars(map[string]string{"AUTH_SECRET": "s3cret", "ALLOWED_ORIGINS": "https://a.example, https://b.example"}))
	if string(f.Secret) != "s3cret" {
		t.Errorf("secret = %q", f.Secret)
	}
	if want := []string{"https://a.example", "https://b.example"}; !reflect.DeepEqual(f.Origins, want) {
		t.Errorf("origins = %q, want %q", f.Origins, want)
	}
}
