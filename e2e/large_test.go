package e2e

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/chatroom/gochat/internal/devserver"
)

// TestLargeRoomPresence runs a server with PRESENCE_BROADCAST_LIMIT=3: the
// fourth user turns the room quiet (one summary to everyone), joins then go
// to the joiner only, messages still reach all, the roster is in the HTTP API,
// and dropping back to three users sends the full roster once.
func TestLargeRoomPresence(t *testing.T) {
	t.Parallel()
	srv, err := devserver.Start(devserver.Options{Name: "large", Root: root, Config: "wrangler.toml",
		Args: []string{"--var", "PRESENCE_BROADCAST_LIMIT:3"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	room := uniqueRoom(t)
	var cs []*client
	for i := 0; i < 3; i++ {
		c := dial(t, srv, "/api/chat/"+room, "u"+strconv.Itoa(i))
		c.send(`{"type":"join","userId":"u` + strconv.Itoa(i) + `"}`)
		c.welcome("u" + strconv.Itoa(i))
		for _, prev := range cs {
			prev.expect(joinedT("u" + strconv.Itoa(i)))
		}
		cs = append(cs, c)
	}
	summary := func(n int) string {
		return `{"type":"presence","users":[],"count":` + strconv.Itoa(n) + `,"truncated":true}`
	}
	fourth := dial(t, srv, "/api/chat/"+room, "u3")
	fourth.send(`{"type":"join","userId":"u3"}`)
	fourth.expect(joinedT("u3"), summary(4), `{"type":"history","messages":[]}`)
	for _, c := range cs {
		c.expect(summary(4))
	}
	fifth := dial(t, srv, "/api/chat/"+room, "u4")
	fifth.send(`{"type":"join","userId":"u4"}`)
	fifth.expect(joinedT("u4"), summary(5), `{"type":"history","messages":[]}`)
	cs[0].send(`{"type":"message","text":"to all"}`)
	for _, c := range append(cs, fourth, fifth) {
		c.expect(msgT("u0", "to all")) // no join frame came before it
	}
	status, body, _ := get(t, srv.HTTP+"/api/rooms/"+room, nil)
	var info struct{ Users []string }
	if status != 200 || json.Unmarshal([]byte(body), &info) != nil || fmt.Sprint(info.Users) != "[u0 u1 u2 u3 u4]" {
		t.Errorf("roster from the API: %d %s", status, body)
	}
	fifth.drop() // still large: nobody hears it
	fourth.drop()
	cs[0].expect(`{"type":"presence","users":["u0","u1","u2"]}`)
	cs[1].expect(`{"type":"presence","users":["u0","u1","u2"]}`)
	cs[2].drop()
	cs[0].expect(leftT("u2"))
	cs[0].quiet()
}
