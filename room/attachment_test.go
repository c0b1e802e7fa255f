package room_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/chatroom/gochat/room"
	"github.com/chatroom/gochat/room/protocol"
)

// attachmentArray is the text a host hands over on a wake: every socket's attachment
// as the room wrote it (null for none), in one JSON array.
func attachmentArray(atts ...*room.Attachment) []byte {
	parts := make([]string, len(atts))
	for i, att := range atts {
		parts[i] = "null"
		if att != nil {
			parts[i] = string(protocol.Marshal(*att))
		}
	}
	return []byte("[" + strings.Join(parts, ",") + "]")
}

// easyjsonAttachments is the reference: easyjson's decoding of the same text.
func easyjsonAttachments(data []byte) (room.Attachments, error) {
	var atts room.Attachments
	err := protocol.Unmarshal(data, &atts)
	return atts, err
}

func TestDecodeAttachments(t *testing.T) {
	t.Parallel()
	full := &room.Attachment{SID: 7, UserID: "alice", Bound: "alice", Active: 1764460800, Accepted: 1764460799,
		IP: "203.0.113.9", Expires: 1764464400, Role: "moderator", Gone: true}
	for _, tc := range []struct {
		name string
		text []byte
		fast bool // the fast path takes it
	}{
		{"empty", []byte("[]"), true},
		{"one of each field", attachmentArray(full), true},
		{"bare and none", attachmentArray(&room.Attachment{SID: 1}, nil, &room.Attachment{SID: 2, UserID: "bob"}), true},
		{"a room", attachmentArray(roomOf(50)...), true},
		{"an escaped user", attachmentArray(&room.Attachment{SID: 3, UserID: `a"b\c`}), false},
		{"a user past ASCII", attachmentArray(&room.Attachment{SID: 3, UserID: "zoë"}), false},
		{"HTML in a string", attachmentArray(&room.Attachment{SID: 3, Role: "<b>&"}), true},
		{"a negative number", attachmentArray(&room.Attachment{SID: 3, Active: -5}), false},
		{"a number of 19 digits", attachmentArray(&room.Attachment{SID: 1 << 62}), false},
		{"spaces", []byte(`[ {"s":1} ]`), false},
		{"keys out of order", []byte(`[{"s":1,"a":2,"u":"x"}]`), false},
		{"a key twice", []byte(`[{"s":1,"u":"x","u":"y"}]`), false},
		{"an unknown key", []byte(`[{"s":1,"z":2}]`), false},
		{"gone false", []byte(`[{"s":1,"g":false}]`), false},
		{"a leading zero", []byte(`[{"s":01}]`), false},
		{"trailing text", []byte(`[{"s":1}]x`), false},
		{"not an array", []byte(`{"s":1}`), false},
		{"cut short", []byte(`[{"s":1,"u":"ab`), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fast, ok := room.DecodeAttachmentsFast(string(tc.text))
			if ok != tc.fast {
				t.Fatalf("fast path took %s: %v, want %v", tc.text, ok, tc.fast)
			}
			want, werr := easyjsonAttachments(tc.text)
			got, err := room.DecodeAttachments(string(tc.text))
			if (err == nil) != (werr == nil) || !reflect.DeepEqual(got, want) {
				t.Fatalf("DecodeAttachments(%s) = %v, %v; easyjson gives %v, %v", tc.text, got, err, want, werr)
			}
			if ok && !reflect.DeepEqual(fast, want) {
				t.Fatalf("fast path decoded %s as %v; easyjson as %v", tc.text, fast, want)
			}
		})
	}
}

// roomOf is n attachments as a room writes them, with nulls and departures
// among them.
func roomOf(n int) []*room.Attachment {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]*room.Attachment, n)
	for i := range out {
		if r.IntN(10) == 0 {
			continue // a socket being accepted: no attachment yet
		}
		att := &room.Attachment{SID: uint64(i + 1), Active: 1764460800 + r.Int64N(100), Accepted: 1764460700, IP: fmt.Sprintf("198.51.100.%d", i)}
		if r.IntN(4) > 0 {
			att.UserID = fmt.Sprintf("user-%d", r.IntN(20))
		}
		if r.IntN(3) == 0 {
			att.Bound, att.Expires, att.Role = att.UserID, 1764464400, "member"
		}
		att.Gone = r.IntN(8) == 0
		out[i] = att
	}
	return out
}

// FuzzDecodeAttachments holds the wake's fast path to easyjson: whatever it
// takes, easyjson decodes the same way.
func FuzzDecodeAttachments(f *testing.F) {
	f.Add(attachmentArray(roomOf(5)...))
	f.Add(attachmentArray(&room.Attachment{SID: 9, UserID: "a", Bound: "a", Active: 1, Accepted: 2, IP: "x", Expires: 3, Role: "r", Gone: true}))
	f.Add([]byte(`[null,{"s":1},null]`))
	f.Add([]byte(`[{"s":1,"u":"\u0041"}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"s":4,"u":"dan","a":12,"g":true}`))
	f.Add([]byte(`{"s":4,"u":"d\u00e4n"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// One socket's attachment: the same as easyjson's, error or not.
		one, err := room.DecodeAttachmentText(data)
		var ref room.Attachment
		rerr := protocol.Unmarshal(data, &ref)
		if (err == nil) != (rerr == nil) || (err == nil && one != ref) {
			t.Fatalf("one attachment %q: %+v, %v; easyjson gives %+v, %v", data, one, err, ref, rerr)
		}
		fast, ok := room.DecodeAttachmentsFast(string(data))
		if !ok {
			return
		}
		want, err := easyjsonAttachments(data)
		if err != nil {
			t.Fatalf("fast path took %q, which easyjson refuses: %v", data, err)
		}
		if !reflect.DeepEqual(fast, want) {
			t.Fatalf("fast path decoded %q as %v; easyjson as %v", data, fast, want)
		}
	})
}

// BenchmarkDecodeAttachments decodes a 50-member room's attachments, as a
// wake does: by DecodeAttachments (the fast path takes this text) and by
// easyjson alone.
func BenchmarkDecodeAttachments(b *testing.B) {
	text := string(attachmentArray(roomOf(50)...))
	b.Run("DecodeAttachments", func(b *testing.B) {
		for b.Loop() {
			if _, err := room.DecodeAttachments(text); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("easyjson", func(b *testing.B) {
		for b.Loop() {
			if _, err := easyjsonAttachments([]byte(text)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
