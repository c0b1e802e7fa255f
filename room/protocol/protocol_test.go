package protocol_test

import (
	"testing"
	"time"

	"github.com/chatroom/gochat/room/protocol"
)

// FuzzDecode checks the decoder alone: it never panics, and what it accepts
// has a known type.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"type":"join","userId":"x"}`))
	f.Add([]byte(`{"type":"message","text":"\u00e9"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, rej := protocol.Decode(data)
		if rej != nil {
			if rej.Code == "" || rej.Message == "" {
				t.Fatalf("reject without code or message: %+v", rej)
			}
			return
		}
		switch req.Type {
		case protocol.TypeJoin, protocol.TypeMessage, protocol.TypePing:
		default:
			t.Fatalf("accepted unknown type %q", req.Type)
		}
	})
}

func TestTimestamp(t *testing.T) {
	t.Parallel()
	for _, tt := range []time.Time{
		time.Date(2025, 10, 26, 5, 20, 0, 0, time.UTC),
		time.Date(2025, 10, 26, 5, 20, 0, 999_999_999, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1_000_000, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 5_000_000, time.FixedZone("x", 3600)),
		time.Date(12026, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		if got, want := protocol.Timestamp(tt), tt.UTC().Format(protocol.TimeLayout); got != want {
			t.Errorf("Timestamp(%v) = %s, want %s", tt, got, want)
		}
	}
}
