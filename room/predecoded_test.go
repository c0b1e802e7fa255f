package room_test

import (
	"slices"
	"testing"

	"github.com/chatroom/gochat/room"
	"github.com/chatroom/gochat/room/protocol"
)

// predecodedSocket is a socket whose host read its attachment in one piece
// with the room's others (room.Fast), as the worker does on a wake.
type predecodedSocket struct {
	*fakeSocket
	pre    *room.Attachment
	has    bool
	handed int // times Predecoded handed something over
	reads  int // times the room read the socket's own attachment
}

var (
	_ room.Socket = (*predecodedSocket)(nil)
	_ room.Fast   = (*predecodedSocket)(nil)
)

func (s *predecodedSocket) Predecoded() (*room.Attachment, bool) {
	att, ok := s.pre, s.has
	s.pre, s.has = nil, false
	if ok {
		s.handed++
	}
	return att, ok
}

func (s *predecodedSocket) Attachment() ([]byte, error) {
	s.reads++
	return s.fakeSocket.Attachment()
}

func TestPredecodedAttachments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// pre is what the host decoded for the first socket, has whether it
		// decoded anything (false: the host could not, e.g. malformed JSON).
		pre       func(own room.Attachment) *room.Attachment
		has       bool
		wantUser  string // who the first socket speaks as after the wake
		wantReads int    // reads of its own attachment during the rebuild
	}{
		{"the decoded attachment is taken instead of reading the socket's", func(own room.Attachment) *room.Attachment { return &own }, true, "alice", 0},
		{"without one the room reads the socket's own", func(room.Attachment) *room.Attachment { return nil }, false, "alice", 1},
		{"a socket the host found without attachment is not adopted", func(room.Attachment) *room.Attachment { return nil }, true, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, room.DefaultConfig(), false)
			a, b := e.connect(), e.connect()
			e.send(a, `{"type":"join","userId":"alice"}`)
			e.send(b, `{"type":"join","userId":"bob"}`)
			a.take()
			b.take()
			own := decodeAttachment(t, a.attachment)
			pa := &predecodedSocket{fakeSocket: a, pre: tt.pre(own), has: tt.has}
			e.host.sockets = []*fakeSocket{b} // a comes first, wrapped
			wrapped := &wrappingHost{fakeHost: e.host, first: pa}
			r := room.New(room.DefaultConfig()) // the wake: a fresh room
			r.Message(wrapped, b, room.Inbound{Text: []byte(`{"type":"message","text":"after the wake"}`)})
			if pa.reads != tt.wantReads {
				t.Errorf("the room read the socket's own attachment %d times during the rebuild, want %d", pa.reads, tt.wantReads)
			}
			got := b.take()
			if len(got) != 1 {
				t.Fatalf("bob got %q, want one message", got)
			}
			users := r.Users()
			want := []string{"bob"}
			if tt.wantUser != "" {
				want = []string{tt.wantUser, "bob"}
			}
			if !slices.Equal(users, want) {
				t.Errorf("roster after the wake %q, want %q", users, want)
			}
			if pa.has || (tt.has && pa.handed != 1) {
				t.Errorf("the decoded attachment was handed over %d times, want once", pa.handed)
			}
		})
	}
}

// wrappingHost is fakeHost with its first socket replaced by a wrapper.
type wrappingHost struct {
	*fakeHost
	first room.Socket
}

func (h *wrappingHost) Sockets() []room.Socket {
	return append([]room.Socket{h.first}, h.fakeHost.Sockets()...)
}

func decodeAttachment(t *testing.T, data []byte) room.Attachment {
	t.Helper()
	var att room.Attachment
	if err := protocol.Unmarshal(data, &att); err != nil {
		t.Fatal(err)
	}
	return att
}

// TestAcceptTags: an accepted socket is tagged at once, so that its first
// frame finds its session without reading its attachment back, and the tags
// of two sockets differ.
func TestAcceptTags(t *testing.T) {
	t.Parallel()
	e := newEnv(t, room.DefaultConfig(), false)
	a, b := e.connect(), e.connect()
	if a.tag == 0 || b.tag == 0 || a.tag == b.tag {
		t.Fatalf("tags after accept %d and %d, want two different non-zero tags", a.tag, b.tag)
	}
	a.attachment = nil // the first frame is served by the tag alone
	e.send(a, `{"type":"join","userId":"alice"}`)
	e.expect(a, welcome("alice", us("alice"))...)
}
