package room

import (
	"github.com/chatroom/gochat/room/protocol"
)

// window reads the history after since. It is truncated when more messages
// than limit followed since, or when some that did were already pruned: ids
// have no gaps, so a first id above since+1 means messages were lost to the
// reader.
func window(s Store, since int64, limit int) ([]protocol.StoredMessage, bool, error) {
	msgs, more, err := s.After(since, limit)
	if err != nil {
		return nil, false, err
	}
	return msgs, more || (len(msgs) > 0 && msgs[0].ID > since+1), nil
}

func nonNil(m []protocol.StoredMessage) []protocol.StoredMessage {
	if m == nil {
		return []protocol.StoredMessage{}
	}
	return m
}
