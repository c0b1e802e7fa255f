package client_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chatroom/gochat/client"
)

// A bot that answers a command. It reads its events in one goroutine and
// sends its answers from others: Send waits for the room's echo, which
// arrives through the same connection as the events.
func Example_bot() {
	room := startFakeRoom() // stands in for a gochat server, such as `make dev`'s
	defer room.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	bot, err := client.Dial(ctx, client.Options{URL: room.URL(), Room: "lobby", UserID: "bot"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer bot.Close()
	for ev := range bot.Events() { // the backlog is not for the bot: wait until open
		if st, ok := ev.(*client.Status); ok && st.State == client.Open {
			break
		}
	}
	go func() {
		for ev := range bot.Events() {
			m, ok := ev.(*client.Message)
			if !ok || m.UserID == "bot" {
				continue
			}
			if arg, ok := strings.CutPrefix(m.Text, "!upper "); ok {
				go bot.Send(ctx, strings.ToUpper(arg))
			}
		}
	}()

	alice, err := client.Dial(ctx, client.Options{URL: room.URL(), Room: "lobby", UserID: "alice"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer alice.Close()
	sent, err := alice.Send(ctx, "!upper hello, world")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("alice sent #%d: %s\n", sent.ID, sent.Text)
	for ev := range alice.Events() {
		if m, ok := ev.(*client.Message); ok && m.UserID == "bot" {
			fmt.Printf("bot: %s\n", m.Text)
			break
		}
	}
	// Output:
	// alice sent #1: !upper hello, world
	// bot: HELLO, WORLD
}

// A reader that resumes: it keeps the last id it saw (LastID) and passes it
// as Since next time, and the room sends only what came after.
func Example_resume() {
	room := startFakeRoom()
	defer room.stop()
	for _, text := range []string{"one", "two", "three", "four"} {
		room.inject("bob", text)
	}
	saved := int64(2) // LastID of an earlier run
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	r, err := client.Dial(ctx, client.Options{URL: room.URL(), Room: "lobby", UserID: "reader", Since: saved})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	for ev := range r.Events() {
		if h, ok := ev.(*client.History); ok {
			for _, m := range h.Messages {
				fmt.Printf("#%d %s: %s\n", m.ID, m.UserID, m.Text)
			}
			fmt.Println("caught up; next time resume after", r.LastID())
			break
		}
	}
	// Output:
	// #3 bob: three
	// #4 bob: four
	// caught up; next time resume after 4
}

// The room's refusals are *RoomError values.
func ExampleClient_Send() {
	room := startFakeRoom()
	defer room.stop()
	room.onMessage = func(string) string { return "rate_limited" }
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c, err := client.Dial(ctx, client.Options{URL: room.URL(), UserID: "alice"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	go func() {
		for range c.Events() { // a client's events must be read
		}
	}()
	_, err = c.Send(ctx, "hello")
	var re *client.RoomError
	if errors.As(err, &re) && re.Code == "rate_limited" {
		fmt.Println("slow down; retry after", re.RetryAfter)
	}
	// Output:
	// slow down; retry after 250ms
}

// A reaction toggles: React returns the room's reaction event, which takes
// a position as a message does. An emoji that is not one is refused
// without a frame.
func ExampleClient_React() {
	room := startFakeRoom()
	defer room.stop()
	posted := room.inject("alice", "lunch at noon?")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	bob, err := client.Dial(ctx, client.Options{URL: room.URL(), Room: "lobby", UserID: "bob"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer bob.Close()
	for ev := range bob.Events() { // React needs an open connection
		if st, ok := ev.(*client.Status); ok && st.State == client.Open {
			break
		}
	}
	go func() {
		for range bob.Events() {
		}
	}()
	for range 2 {
		r, err := bob.React(ctx, posted.ID, "👍")
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("#%d: %s %s, added %v (LastID %d)\n", r.MessageID, r.UserID, r.Emoji, r.Added, bob.LastID())
	}
	_, err = bob.React(ctx, posted.ID, "yes")
	var re *client.RoomError
	if errors.As(err, &re) {
		fmt.Println(re.Code)
	}
	// Output:
	// #1: bob 👍, added true (LastID 2)
	// #1: bob 👍, added false (LastID 3)
	// invalid_reaction
}
