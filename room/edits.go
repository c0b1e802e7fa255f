package room

import "github.com/chatroom/gochat/room/protocol"

// edit replaces the text of a message of the sender's own. It follows a
// message's rules (text, rate limit); everyone gets message_edited, which
// takes the next position in the sequence of message ids.
func (r *Room) edit(h Host, sess *session, req protocol.Request) {
	if !r.changeAllowed(h, sess, req) {
		return
	}
	if rej := r.checkText(req); rej != nil {
		r.sendError(h, sess, rej)
		return
	}
	if !r.allow(h, sess) {
		return
	}
	author, ok := r.author(h, sess, req.ID)
	if !ok {
		return
	}
	if author != sess.userID {
		r.sendError(h, sess, protocol.Rejectf(protocol.CodeForbidden, "only its author may edit message %d", req.ID))
		return
	}
	editedAt := protocol.Timestamp(h.Now())
	frame, ok := r.storeChange(h, func(pos int64) []byte {
		return protocol.Marshal(protocol.MessageEdited{Type: protocol.TypeMessageEdited, ID: pos, MessageID: req.ID,
			UserID: author, Text: req.Text, EditedAt: editedAt})
	}, func(pos int64, frame []byte) error {
		return h.Store().Edit(req.ID, req.Text, editedAt, pos, frame)
	})
	if !ok {
		r.sendError(h, sess, storageError)
		return
	}
	r.broadcast(h, frame)
}

// delete removes a message: the sender's own, or anyone's for a moderator
// or a service. Its text is gone from storage; everyone gets
// message_deleted, at the next position.
func (r *Room) delete(h Host, sess *session, req protocol.Request) {
	if !r.changeAllowed(h, sess, req) {
		return
	}
	author, ok := r.author(h, sess, req.ID)
	if !ok {
		return
	}
	if author != sess.userID && !sess.moderates() {
		r.sendError(h, sess, protocol.Rejectf(protocol.CodeForbidden, "only its author or a moderator may delete message %d", req.ID))
		return
	}
	if rej := r.deleteMessage(h, sess.userID, author, req.ID); rej != nil {
		r.sendError(h, sess, rej)
	}
}

// deleteMessage deletes message id of author's, by by: its change at the
// next position, to everyone; a deletion of another's goes into the audit
// log.
func (r *Room) deleteMessage(h Host, by, author string, id int64) *protocol.Reject {
	frame, ok := r.storeChange(h, func(pos int64) []byte {
		return protocol.Marshal(protocol.MessageDeleted{Type: protocol.TypeMessageDeleted, ID: pos, MessageID: id,
			By: by, Timestamp: protocol.Timestamp(h.Now())})
	}, func(pos int64, frame []byte) error {
		if err := h.Store().Delete(id, pos, frame); err != nil {
			return err
		}
		if author != by {
			// A moderator's deletion is a moderation action: it goes into
			// the audit log. (Its change is stored already; it fails only
			// with the storage, and the deletion stands.)
			_ = h.Store().Moderate(Action{Kind: protocol.TypeDelete, UserID: author, By: by,
				MessageID: id, At: protocol.Timestamp(h.Now())})
		}
		return nil
	})
	if !ok {
		return storageError
	}
	r.broadcast(h, frame)
	return nil
}

// changeAllowed checks what an edit, a delete, a read marker and a reaction
// all need: a joined sender, and a valid message id.
func (r *Room) changeAllowed(h Host, sess *session, req protocol.Request) bool {
	switch {
	case sess.userID == "":
		verb := req.Type
		if verb == protocol.TypeReact {
			verb = "react to"
		}
		r.sendError(h, sess, protocol.Rejectf(protocol.CodeNotJoined, `join before you %s a message`, verb))
	case !req.HasID:
		r.sendError(h, sess, protocol.Rejectf(protocol.CodeInvalidID, `%s needs the "id" of a message`, req.Type))
	case req.IDErr != nil:
		r.sendError(h, sess, req.IDErr)
	default:
		return true
	}
	return false
}

// author looks up who posted message id, answering not_found (or a storage
// error) itself when there is nobody to ask about.
func (r *Room) author(h Host, sess *session, id int64) (string, bool) {
	author, ok, err := h.Store().Author(id)
	switch {
	case err != nil:
		r.sendError(h, sess, storageError)
		return "", false
	case !ok:
		r.sendError(h, sess, protocol.Rejectf(protocol.CodeNotFound, "this room holds no message %d", id))
		return "", false
	}
	return author, true
}

// storeChange stores a change at the next position: frame makes its frame
// for the position, save stores both. It returns the frame, or false when
// the storage failed; then nothing was stored, and the last position is read
// again next time (the store is the truth).
func (r *Room) storeChange(h Host, frame func(pos int64) []byte, save func(pos int64, frame []byte) error) ([]byte, bool) {
	pos, err := r.nextPosition(h)
	if err != nil {
		return nil, false
	}
	f := frame(pos)
	if err := save(pos, f); err != nil {
		r.lastID = -1
		return nil, false
	}
	r.lastID = pos
	return f, true
}

// nextPosition is the position the next message or change takes.
func (r *Room) nextPosition(h Host) (int64, error) {
	last, err := r.lastMessageID(h)
	return last + 1, err
}
