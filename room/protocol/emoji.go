package protocol

import "unicode/utf8"

// MaxEmojiBytes bounds a reaction's emoji: the longest family and flag
// sequences fit, and a reaction stays small in every summary.
const MaxEmojiBytes = 32

// ValidEmoji reports whether s is one emoji grapheme cluster of at most
// MaxEmojiBytes: a pictograph with an optional presentation selector and skin
// tone, pictographs joined by zero-width joiners (families, professions), a
// flag (two regional indicators, or a tag sequence such as England's), or a
// keycap. It is the grammar of Unicode's emoji sequences written out over
// the ranges that hold emoji, rather than the whole Unicode emoji data,
// which would cost the Wasm more than the rule is worth.
func ValidEmoji(s string) bool {
	if s == "" || len(s) > MaxEmojiBytes || !utf8.ValidString(s) {
		return false
	}
	rs := []rune(s)
	// A keycap: [0-9#*] U+FE0F? U+20E3.
	if k := rs[0]; k == '#' || k == '*' || ('0' <= k && k <= '9') {
		return (len(rs) == 2 && rs[1] == 0x20E3) || (len(rs) == 3 && rs[1] == 0xFE0F && rs[2] == 0x20E3)
	}
	// A flag: two regional indicators.
	if isRegional(rs[0]) {
		return len(rs) == 2 && isRegional(rs[1])
	}
	i, n := 0, len(rs)
	for {
		if i >= n || !isPictograph(rs[i]) {
			return false
		}
		i++
		if i < n && rs[i] == 0xFE0F { // emoji presentation
			i++
		}
		if i < n && 0x1F3FB <= rs[i] && rs[i] <= 0x1F3FF { // skin tone
			i++
		}
		// A tag sequence (subdivision flags): tags, then a cancel tag.
		if i < n && 0xE0020 <= rs[i] && rs[i] <= 0xE007E {
			for i < n && 0xE0020 <= rs[i] && rs[i] <= 0xE007E {
				i++
			}
			return i == n-1 && rs[i] == 0xE007F
		}
		if i == n {
			return true
		}
		if rs[i] != 0x200D || i == n-1 { // a zero-width joiner joins the next
			return false
		}
		i++
	}
}

func isRegional(r rune) bool { return 0x1F1E6 <= r && r <= 0x1F1FF }

// isPictograph covers the blocks that hold emoji pictographs.
func isPictograph(r rune) bool {
	switch {
	case 0x1F000 <= r && r <= 0x1FAFF, // the emoji planes: symbols, pictographs, faces, transport, ...
		0x2600 <= r && r <= 0x27BF, // miscellaneous symbols and dingbats
		0x2300 <= r && r <= 0x23FF, // technical (watch, hourglass, ...)
		0x2B00 <= r && r <= 0x2BFF, // arrows and stars
		0x2190 <= r && r <= 0x21FF, // arrows
		0x25A0 <= r && r <= 0x25FF, // geometric shapes
		0x2900 <= r && r <= 0x297F, // supplemental arrows
		r == 0x00A9, r == 0x00AE, r == 0x203C, r == 0x2049, r == 0x2122, r == 0x2139,
		r == 0x24C2, r == 0x3030, r == 0x303D, r == 0x3297, r == 0x3299:
		return !isRegional(r)
	}
	return false
}
