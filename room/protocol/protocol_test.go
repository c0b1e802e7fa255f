package protocol_test

import (
	"strings"
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
		case protocol.TypeJoin, protocol.TypeMessage, protocol.TypePing, protocol.TypeEdit, protocol.TypeDelete:
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

func TestValidUserID(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, id string
		ok       bool
	}{
		{"plain", "alice", true},
		{"letters, digits and marks", "Zoë_42-x", true},
		{"64 characters", strings.Repeat("é", 64), true},
		{"65 characters", strings.Repeat("é", 65), false},
		{"empty", "", false},
		{"a control character", "a\nb", false},
		{"right-to-left override", "admin\u202Eevil", false},
		{"zero-width space", "ali\u200Bce", false},
		{"zero-width joiner", "a\u200Db", false},
		{"byte order mark", "\uFEFFalice", false},
		{"left-to-right isolate", "\u2066bob", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rej := protocol.ValidUserID(tt.id)
			if (rej == nil) != tt.ok || (rej != nil && rej.Code != protocol.CodeInvalidUserID) {
				t.Errorf("ValidUserID(%q) = %v, want ok %v", tt.id, rej, tt.ok)
			}
		})
	}
}

func TestMarshalDoesNotEscapeHTML(t *testing.T) {
	t.Parallel()
	got := string(protocol.Marshal(protocol.ErrorFrame{Type: "error", Code: "x", Message: "<b>&é</b>"}))
	if want := `{"type":"error","code":"x","message":"<b>&é</b>"}`; got != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
	m := protocol.ChatMessage{Type: "message", ID: 1, UserID: "a", Text: "<script>", Timestamp: "t"}
	if got := string(m.Frame(64)); !strings.Contains(got, `"text":"<script>"`) {
		t.Errorf("Frame = %s", got)
	}
}

func TestValidEmoji(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		s  string
		ok bool
	}{
		{"👍", true},
		{"👍🏽", true},
		{"❤️", true},
		{"❤", true},
		{"👨‍👩‍👧‍👦", true},
		{"🧑🏿‍💻", true},
		{"🏳️‍🌈", true},
		{"🇫🇷", true},
		{"🏴󠁧󠁢󠁥󠁮󠁧󠁿", true},
		{"1️⃣", true},
		{"#⃣", true},
		{"", false},
		{"a", false},
		{"ok", false},
		{"👍👍", false},
		{"👍 ", false},
		{"🇫", false},
		{"🇫🇷🇩🇪", false},
		{"‍👍", false},
		{"👍‍", false},
		{"1", false},
		{"\u200b", false},
		{"<script>", false},
		{"👨‍👩‍👧‍👦‍👨‍👩‍👧", false}, // over 32 bytes
	} {
		if got := protocol.ValidEmoji(tt.s); got != tt.ok {
			t.Errorf("ValidEmoji(%q) = %v, want %v", tt.s, got, tt.ok)
		}
	}
}
