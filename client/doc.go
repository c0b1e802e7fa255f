// Package client is the Go client of gochat's chat rooms: it joins a room
// over a WebSocket, keeps the connection alive and resumes it after a drop
// with nothing missed and nothing twice, and sends messages with their
// confirmation. It also reads the room HTTP API. It speaks the wire protocol
// of package github.com/chatroom/gochat/room/protocol and nothing else.
//
// # Connecting
//
// New checks the Options and does no I/O; Connect makes the first WebSocket
// upgrade and starts the client's work in the background; Dial does both.
// Close ends it all, and no goroutine of the client outlives Close.
//
//	c, err := client.Dial(ctx, client.Options{URL: "http://127.0.0.1:8787", Room: "lobby", UserID: "ada"})
//	if err != nil {
//		return err // the server is down, the room name is wrong, 401, 403, ...
//	}
//	defer c.Close()
//
// In a protected room, give a Token, or a TokenFunc that is called before
// every connect so that an expiring token is refreshed. The token travels as
// "Authorization: Bearer". An HTTP 401 at the upgrade asks the TokenFunc once
// more and retries; a second 401 (or a 401 without a TokenFunc) is fatal. A
// socket the server closes with code 4001 ("token expired") is reconnected at
// once with a fresh token.
//
// # Receiving: one channel, with back-pressure
//
// Everything that happens arrives on the one channel Events returns, as typed
// values: *Message, *History, *MessageEdited, *MessageDeleted, *Moderated,
// *RoomSettings, *Reaction, *Typing, *Read, *ReadState, *UserJoined,
// *UserLeft, *Presence, *Error and *Status. Read it with a type switch until
// it is closed:
//
//	for ev := range c.Events() {
//		switch ev := ev.(type) {
//		case *client.Message:
//			fmt.Printf("%s: %s\n", ev.UserID, ev.Text)
//		case *client.Status:
//			log.Println(ev.State, ev.Err)
//		}
//	}
//
// The channel is bounded (Options.EventBuffer). When it is full, the client
// stops reading the socket until the consumer takes the next event, and the
// room's frames wait in the network buffers behind it: a slow consumer slows
// the connection down and never loses an event. While the client waits on the
// consumer, the keepalive does not count the silence against the connection.
// A program that does not care about events must still drain the channel
// (for range c.Events() {}), or the client stalls; that includes the echoes
// that Send waits for.
//
// The channel is closed when the client ends: after Close, or after a fatal
// error, which is delivered first as a *Status with State Closed and Err set,
// and is then what Err returns. Events not yet taken when Close is called are
// dropped: Close means the consumer is done.
//
// Each event that comes from a frame carries Raw, the frame exactly as
// received (for a change of a History, that change's part of the history
// frame). Pongs are not events.
//
// # Positions, edits and deletions
//
// Messages, edits (*MessageEdited), deletions (*MessageDeleted), reactions
// (*Reaction) and moderation events (*Moderated) take places in one
// increasing sequence of positions: a Message's ID, the others' ID.
// Positions may skip (a message deleted before it was seen leaves a hole).
// LastID is the highest position delivered, whatever the event, and each
// position is delivered once. On a resume the History carries, besides the
// messages missed, Changes: the edits, deletions and reactions of messages
// delivered before, and the moderation events missed, in order. They are
// also delivered as their own events right after the History, so that a
// consumer that applies *MessageEdited, *MessageDeleted and *Reaction as
// they come ends with the view of one that never left. A History's messages
// carry EditedAt when they were edited, and Reactions (protocol's
// ReactionSummary: emoji, count, the first users) when they have any.
//
// Edit(ctx, id, text) and Delete(ctx, id) change a message and return the
// room's answer: the message_edited or message_deleted that confirms it, or
// the refusal as a *RoomError (not_found, forbidden, ...). With a moderator's
// or a service's token, Moderate kicks, bans (for some seconds, or until
// lifted), unbans, mutes and unmutes a user, and SlowMode sets how long
// members wait between messages; each returns the room's *Moderated or
// *RoomSettings, or its refusal. They wait for the room's answer as Send
// does, and the same rule of matching applies: the room answers each
// request in order, with its echo or an error, so an error answers the
// oldest request in flight that such an error can answer (RoomError.Request
// says which kind).
//
// # Live signals: typing, read markers, reactions
//
// Typing(ctx) tells the others that this user is typing; call it on every
// keystroke: a frame goes out at most once per TypingInterval (2 s), and the
// calls in between return nil and send nothing. The others get a *Typing
// event; the room sets no timer, so a user interface shows the user as
// typing until TypingTimeout (6 s) has passed since their last one, or their
// message arrives.
//
// MarkRead(ctx, id) says this user has read up to message id. It only moves
// forward, and calls are coalesced: at most one read frame per ReadInterval
// (1 s), carrying the latest id, the one held back sent by a timer. The
// others get a *Read event (at most one a second per user, the room's
// rule). After every join's History, the room tells where this user stands
// with a *ReadState: the last id read and how many messages follow it
// (capped at protocol.MaxUnread), and MarkRead sends nothing that is not
// past it. An id MarkRead got while the client was not joined goes out
// after the rejoin. RoomInfo's Reads hold the read positions of the users
// present.
//
// React(ctx, id, emoji) toggles this user's reaction on a message and
// returns the room's *Reaction (Added says which way it went), or its
// refusal: invalid_reaction (checked here too, with protocol.ValidEmoji,
// before anything is sent), too_many_reactions (20 distinct emoji on a
// message), not_found, muted, rate_limited. A reaction takes a position,
// as an edit does, so everyone's LastID moves past it.
//
// Typing and React need an open connection: while the client is not joined
// they return ErrNotConnected and nothing is queued (a late typing frame is
// wrong, and a toggle queued for later could undo one made meanwhile); a
// MarkRead waits instead. A React on the wire when the connection drops is
// looked for in the resume's changes like an Edit.
//
// # Sending: exactly once
//
// Send(ctx, text) returns the stored message (its id and timestamp) once the
// room has echoed it, or the room's refusal as a *RoomError that errors.As
// can inspect (Code, Message, RetryAfter for rate_limited). The echo is
// matched to the send by the room's rule: it comes back to the sender with
// the same text under the sender's userId, and refusals answer the oldest
// unanswered send.
//
// The echo comes through the same connection as the events, read in order
// by the same reader: a goroutine that reads Events must not wait on Send
// while the channel may fill, or the two wait on each other. Send from
// another goroutine, as the bot example does.
//
// While the client is not joined (connecting, reconnecting), sends wait in a
// bounded queue (Options.QueueSize) and go out in order after the rejoin; a
// send that does not fit fails at once with ErrQueueFull. A send that was on
// the wire when the connection dropped is sent again only if the resumed
// history lacks it, so it is stored exactly once. If that history cannot
// tell (it is truncated, one of this user's messages in it was edited, or a
// position after the resume point is missing, a message edited or deleted
// meanwhile), the send fails with ErrUnconfirmed rather than risk a
// duplicate. A text the room refused (muted, slow_mode, rate_limited, ...)
// has had its answer and is never sent again. An edit, a delete or a
// moderation action cut off by a drop is looked for in the resume's changes:
// found, it returns it; otherwise it is sent again, or fails with
// ErrUnconfirmed when the history is truncated or starts over.
//
// # Reconnecting and resuming
//
// A dropped connection is retried with exponential backoff and jitter
// (Options.BackoffMin doubling up to Options.BackoffMax, a random part of up
// to half taken off). The rejoin carries "since", the last message id seen,
// and history messages with an id at or below it are dropped: no gap, no
// duplicate. A room that no longer knows the resume point (invalid_since)
// starts over, and the History says Reset. Every Options.PingInterval the
// client sends the exact protocol.PingFrame, which the runtime answers
// without waking the room; a connection on which nothing at all arrived for
// a whole interval is considered dead and replaced.
//
// Errors that cannot heal end the client: an HTTP 400, 401, 403 or 404 at the
// upgrade (an *HTTPError; a banned user's 403 has Code "banned" and Until),
// a join refused with invalid_user_id, forbidden, already_joined or banned
// (a *RoomError), and a connection the room closes with 4003 because this
// client's user was kicked or banned: the client does not come back, and
// ends with a *RoomError whose Code is CodeKicked or "banned" (with the
// moderator, the reason and Until of the *Moderated event that came just
// before). Anything else (refused connections, 5xx, other closes) is
// retried.
//
// # The HTTP room API
//
// RoomInfo and Messages read GET /api/rooms/{room} and its messages pages
// with the client's token; they need no Connect.
package client
