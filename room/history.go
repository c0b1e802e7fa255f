package room

import (
	"github.com/chatroom/gochat/room/protocol"
)

// historyOverhead is what a history frame or a messages page holds besides
// its messages, at most: the type or the room name, the brackets and the
// truncated flag.
const historyOverhead = 160

// window reads the history after since (and before before, when it is not
// 0): the newest limit messages, oldest first, whose JSON fits in budget
// bytes. It is truncated when more messages than that followed since, or
// when some that did were pruned: a position between since and the first
// message returned that is neither a change nor a deleted message held a
// message the reader will not get.
func (r *Room) window(h Host, since, before int64, limit, budget int) ([]protocol.StoredMessage, bool, error) {
	msgs, more, err := h.Store().After(since, before, limit, budget)
	if err != nil {
		return nil, false, err
	}
	msgs, cut := fit(msgs, budget)
	truncated := more || cut
	if !truncated && len(msgs) > 0 && msgs[0].ID > since+1 {
		accounted, err := h.Store().Accounted(since, msgs[0].ID)
		if err != nil {
			return nil, false, err
		}
		truncated = msgs[0].ID-since-1 > accounted
	}
	return msgs, truncated, nil
}

// changes reads the changes a resume after since needs, within budget
// bytes, and whether any were left out.
func (r *Room) changes(h Host, since int64, budget int) ([]protocol.Raw, bool, error) {
	changes, more, err := h.Store().Changes(since, r.cfg.MaxResume, budget)
	if err != nil {
		return nil, false, err
	}
	total := 0
	for i, c := range changes {
		if total += len(c) + 1; total > budget {
			return changes[:i], true, nil
		}
	}
	return changes, more, nil
}

// encodedSize is the bytes a list of raw frames takes in a frame.
func encodedSize(raws []protocol.Raw) int {
	n := 0
	for _, c := range raws {
		n += len(c) + 1
	}
	return n
}

// fit keeps the newest of msgs (oldest first) whose JSON, with a comma
// each, fits in budget bytes, and reports whether it left any out. The
// store already stopped near the budget, by SQLite's measure; this is the
// exact one, the encoder's.
func fit(msgs []protocol.StoredMessage, budget int) ([]protocol.StoredMessage, bool) {
	total := 0
	for i := len(msgs) - 1; i >= 0; i-- {
		total += len(protocol.Marshal(msgs[i])) + 1
		if total > budget {
			return msgs[i+1:], true
		}
	}
	return msgs, false
}

func nonNil(m []protocol.StoredMessage) []protocol.StoredMessage {
	if m == nil {
		return []protocol.StoredMessage{}
	}
	return m
}
