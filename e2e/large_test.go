package e2e

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	goclient "github.com/chatroom/gochat/client"
	"github.com/chatroom/gochat/internal/devserver"
)

// TestLargeRoomPresence runs a server with PRESENCE_BROADCAST_LIMIT=3: the
// fourth user turns the room quiet (one summary to everyone), joins then go
// to the joiner only, messages still reach all, the roster is in the HTTP API,
// and dropping back to three users sends the full roster once.
func TestLargeRoomPresence(t *testing.T) {
	t.Parallel()
	srv := ownServer(t, devserver.Options{Name: "large", Config: "wrangler.toml",
		Args: []string{"--var", "PRESENCE_BROADCAST_LIMIT:3"}})
	room := uniqueRoom(t)
	var cs []*gclient
	for i := 0; i < 3; i++ {
		c := goJoin(t, srv, room, "u"+strconv.Itoa(i))
		for _, prev := range cs {
			prev.expect(joinedT("u" + strconv.Itoa(i)))
		}
		cs = append(cs, c)
	}
	summary := func(n int) string {
		return `{"type":"presence","users":[],"count":` + strconv.Itoa(n) + `,"truncated":true}`
	}
	// The welcome of a large room: the summary instead of the roster.
	largeJoin := func(user string, n int) *gclient {
		c := goConnect(t, srv, room, user)
		c.status(goclient.Connecting)
		c.expect(joinedT(user), summary(n), `{"type":"history","messages":[]}`)
		c.status(goclient.Open)
		c.readState()
		return c
	}
	fourth := largeJoin("u3", 4)
	for _, c := range cs {
		c.expect(summary(4))
	}
	fifth := largeJoin("u4", 5)
	cs[0].send("to all")
	for _, c := range append(cs, fourth, fifth) {
		c.expect(msgT("u0", "to all")) // no join frame came before it
	}
	status, body, _ := get(t, srv.HTTP+"/api/rooms/"+room, nil)
	var info struct{ Users []string }
	if status != 200 || json.Unmarshal([]byte(body), &info) != nil || fmt.Sprint(info.Users) != "[u0 u1 u2 u3 u4]" {
		t.Errorf("roster from the API: %d %s", status, body)
	}
	fifth.vanish() // still large: nobody hears it
	fourth.vanish()
	cs[0].expect(`{"type":"presence","users":["u0","u1","u2"]}`)
	cs[1].expect(`{"type":"presence","users":["u0","u1","u2"]}`)
	cs[2].vanish()
	cs[0].expect(leftT("u2"))
	quietGo(cs[0], cs[0])
}
