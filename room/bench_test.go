package room_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/chatroom/gochat/room/protocol"

	"github.com/chatroom/gochat/room"
)

// Benchmarks of the room's own work per event, over a host that keeps
// nothing: what the Wasm build pays for on top of the runtime's sends and
// SQLite. Run with: go test ./room -run '^$' -bench . -benchmem

// nullSocket drops what it is sent and keeps its attachment.
type nullSocket struct {
	att []byte
	tag uint64
}

var _ room.Fast = (*nullSocket)(nil)

func (s *nullSocket) Send([]byte) error                    { return nil }
func (s *nullSocket) Close(int, string) error              { return nil }
func (s *nullSocket) Attachment() ([]byte, error)          { return s.att, nil }
func (s *nullSocket) SetAttachment(data []byte) error      { s.att = append(s.att[:0], data...); return nil }
func (s *nullSocket) Tag() uint64                          { return s.tag }
func (s *nullSocket) SetTag(tag uint64)                    { s.tag = tag }
func (s *nullSocket) AutoResponseAt() time.Time            { return time.Time{} }
func (s *nullSocket) Open() bool                           { return true }
func (s *nullSocket) Predecoded() (*room.Attachment, bool) { return nil, false }

// nullHost is a runtime whose clock moves as told and whose store only
// counts.
type nullHost struct {
	sockets []room.Socket
	now     time.Time
	last    int64
}

var _ room.Host = (*nullHost)(nil)

func (h *nullHost) Sockets() []room.Socket                             { return h.sockets }
func (h *nullHost) Broadcast([]byte, []room.Socket, int) []room.Socket { return nil }
func (h *nullHost) Now() time.Time                                     { return h.now }
func (h *nullHost) Store() room.Store                                  { return h }
func (h *nullHost) Alarm() room.Alarm                                  { return nullAlarm{} }

type nullAlarm struct{}

func (nullAlarm) Set(time.Time)    {}
func (nullAlarm) Ensure(time.Time) {}
func (nullAlarm) Delete()          {}

func (h *nullHost) Append(m protocol.StoredMessage, _ []byte, _ int) error { h.last = m.ID; return nil }
func (h *nullHost) After(int64, int64, int, int) ([]protocol.StoredMessage, bool, error) {
	return nil, false, nil
}
func (h *nullHost) LastID() (int64, error)                            { return h.last, nil }
func (h *nullHost) Author(int64) (string, bool, error)                { return "", false, nil }
func (h *nullHost) Edit(int64, string, string, int64, []byte) error   { return nil }
func (h *nullHost) Delete(int64, int64, []byte) error                 { return nil }
func (h *nullHost) Accounted(int64, int64) (int64, error)             { return 0, nil }
func (h *nullHost) Moderation() (room.ModerationState, error)         { return room.ModerationState{}, nil }
func (h *nullHost) RememberService(string) error                      { return nil }
func (h *nullHost) ReadMarker(string) (room.ReadMarker, error)        { return room.ReadMarker{}, nil }
func (h *nullHost) SetReadMarker(string, room.ReadMarker) error       { return nil }
func (h *nullHost) PendingReads() (map[string]room.ReadMarker, error) { return nil, nil }
func (h *nullHost) Reads([]string) (map[string]int64, error)          { return nil, nil }
func (h *nullHost) Unread(int64, int) (int64, error)                  { return 0, nil }
func (h *nullHost) ReactionState(int64, string, string) (bool, bool, int, error) {
	return false, false, 0, nil
}
func (h *nullHost) React(int64, string, string, bool, int64, []byte) error { return nil }
func (h *nullHost) Moderate(room.Action) error                             { return nil }
func (h *nullHost) LastMessageAt(string) (time.Time, error)                { return time.Time{}, nil }
func (h *nullHost) BanList(int64) (protocol.BanEntries, error)             { return nil, nil }
func (h *nullHost) Audit(int64, int) (protocol.AuditEntries, bool, error) {
	return nil, false, nil
}
func (h *nullHost) Idempotent(string, int64) ([]byte, bool, error) { return nil, false, nil }
func (h *nullHost) Remember(string, []byte, int64) error           { return nil }
func (h *nullHost) Changes(int64, int, int) ([]protocol.Raw, bool, error) {
	return nil, false, nil
}

// joinedRoom is a room of n joined members, as after a fanout's joins.
func joinedRoom(b *testing.B, n int) (*room.Room, *nullHost) {
	cfg := room.DefaultConfig()
	cfg.RateBurst, cfg.RatePerSecond = 1<<30, 1<<30
	h := &nullHost{now: testNow}
	r := room.New(cfg)
	for i := 0; i < n; i++ {
		s := &nullSocket{}
		h.sockets = append(h.sockets, s)
		if err := r.Accept(h, s, room.Conn{}); err != nil {
			b.Fatal(err)
		}
		r.Message(h, s, room.Inbound{Text: []byte(`{"type":"join","userId":"user` + strconv.Itoa(i) + `"}`)})
	}
	return r, h
}

var chatFrame = []byte(`{"type":"message","text":"r1 0 12 1764149000123456789 hello world, some chat text here"}`)

func BenchmarkMessage(b *testing.B) {
	r, h := joinedRoom(b, 50)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.now = h.now.Add(time.Millisecond)
		r.Message(h, h.sockets[i%50], room.Inbound{Text: chatFrame})
	}
}

func BenchmarkWake(b *testing.B) {
	r, h := joinedRoom(b, 50)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		for _, s := range h.sockets {
			s.(*nullSocket).tag = 0
		}
		r = room.New(room.DefaultConfig())
		r.Message(h, h.sockets[i%50], room.Inbound{Text: chatFrame})
	}
}
