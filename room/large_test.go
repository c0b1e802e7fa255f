package room_test

import (
	"strconv"
	"testing"

	"github.com/chatroom/gochat/room"
)

func summary(n int) string {
	return `{"type":"presence","users":[],"count":` + strconv.Itoa(n) + `,"truncated":true}`
}

// TestLargeRoomPresence: up to PresenceLimit users the seed's frames go out
// exactly as in a small room; above it joins and leaves are not broadcast,
// and one presence frame marks each crossing.
func TestLargeRoomPresence(t *testing.T) {
	t.Parallel()
	cfg := room.DefaultConfig()
	cfg.PresenceLimit = 2
	both(t, cfg, func(e *env) {
		a, b := e.connect(), e.connect()
		e.send(a, `{"type":"join","userId":"a"}`)
		e.send(b, `{"type":"join","userId":"b"}`)
		e.expect(a, seq(welcome("a", us("a")), joined("b"))...)
		e.expect(b, welcome("b", us("a", "b"))...)

		c := e.connect() // the third user crosses the limit
		e.send(c, `{"type":"join","userId":"c"}`)
		e.expect(a, summary(3))
		e.expect(b, summary(3))
		e.expect(c, joined("c"), summary(3), history(), readState(0, 0))

		d := e.connect() // a large room stays quiet
		e.send(d, `{"type":"join","userId":"d"}`)
		e.expect(d, joined("d"), summary(4), history(), readState(0, 0))
		e.expect(a)
		d2 := e.connect() // a second tab changes nothing either
		e.send(d2, `{"type":"join","userId":"d"}`)
		e.expect(d2, joined("d"), summary(4), history(), readState(0, 0))

		e.send(a, `{"type":"message","text":"hi all"}`) // messages still reach everyone
		for _, s := range []*fakeSocket{a, b, c, d, d2} {
			e.expect(s, msg(1, "a", "hi all"))
		}
		e.peerClose(d, 1000, "")
		e.peerClose(d2, 1000, "") // d's last tab: 3 users left, still large
		e.expect(a)
		e.peerClose(c, 1000, "") // back to 2: the full roster, once
		e.expect(a, presence("a", "b"))
		e.expect(b, presence("a", "b"))
		e.peerClose(b, 1000, "") // small again: per-user frames
		e.expect(a, left("b"))
	})
}
