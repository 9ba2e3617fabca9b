//! Many identities found in large JSON text in one pass, as whole words.
//!
//! The identities are a trie whose edges are eight bytes long, held in one hash table: a
//! node's children are keyed by the next eight bytes of an identity, and an identity that ends
//! within eight bytes of a node is keyed there by the bytes left (zero to seven) and how many
//! they are. The text is read once, 64 bytes at a time on bit masks; at every byte where a
//! word may start (after a byte that is not a letter, digit, `-` or `_`) its first two bytes
//! are looked up in a table of the pairs identities start with, then the next eight in a bit
//! filter that fits in the CPU's cache, then in the table. Only text that begins like an identity
//! goes further, eight bytes per lookup, so identities that share a long prefix (every ARN of
//! an account and region) cost a lookup per eight shared bytes, never a comparison with each
//! of them. An automaton over thousands of identities is many times larger than the cache and
//! walks every byte through it; this reads each byte once and touches the table about as often
//! as text that looks like an identity.

use std::collections::HashMap;

/// Bytes of an identity that are looked up at once: the shortest identity searched for.
pub const KEY: usize = 8;

/// A whole-word occurrence of pattern `pattern` at byte `offset` of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    pub pattern: usize,
    pub offset: usize,
}

/// The identities searched for.
pub struct IdentitySearch {
    /// One bit per hash of an identity's first eight bytes: clear where no identity begins.
    filter: Vec<u64>,
    filter_shift: u32,
    /// Open addressing on [`hash`]: edges (to a node) and ends (to an identity).
    slots: Vec<Slot>,
    slot_shift: u32,
    /// Per node: bit `t` (0..8) when an identity ends `t` bytes past it, bit 8 when it has
    /// children.
    nodes: Vec<u16>,
    /// The pairs of bytes an identity starts with, one bit each (little-endian `u16`): most
    /// places a word starts are ruled out here, before any hashing.
    pairs: Box<[u64; 1024]>,
    /// Those of them that are no word bytes (an Azure id's `/`).
    specials: Vec<u8>,
}

/// An entry of the table: `tag` is the node and what follows it (see [`tag`]), never 0 in a
/// used slot; `value` is the child node of an edge or the identity of an end.
#[derive(Clone, Copy, Default)]
struct Slot {
    bytes: u64,
    tag: u32,
    value: u32,
}

const ROOT: u32 = 0;
/// What follows a node along an edge: eight bytes. An end is `0..8` bytes.
const EDGE: u32 = 8;
const HAS_CHILDREN: u16 = 1 << 8;

/// Bytes that continue a word: an identity found next to one is part of something longer.
const fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

const WORD: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = is_word(b as u8);
        b += 1;
    }
    table
};

/// A node and the length of what follows it (`0..8` for an end, [`EDGE`]), as one non-zero
/// number.
fn tag(node: u32, length: u32) -> u32 {
    node * 16 + length + 1
}

fn hash(tag: u32, bytes: u64) -> u64 {
    (bytes ^ u64::from(tag).wrapping_mul(0xD6E8_FEB8_6659_FD93)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The `length` (at most eight) bytes of `text` from `at`, little-endian, zero above them.
fn bytes_at(text: &[u8], at: usize, length: usize) -> Option<u64> {
    let piece = text.get(at..at + length)?;
    let mut buffer = [0u8; KEY];
    buffer[..length].copy_from_slice(piece);
    Some(u64::from_le_bytes(buffer))
}

/// `log2` of a power of two at least `n` and at least 64.
fn bits_for(n: usize) -> u32 {
    n.max(64).next_power_of_two().trailing_zeros()
}

impl IdentitySearch {
    /// `patterns` are distinct identities of at least [`KEY`] bytes (see
    /// [`crate::input::context::searchable`]); a shorter one can never be found, and of two
    /// equal ones only the first is reported.
    pub fn new(patterns: &[String]) -> IdentitySearch {
        let mut nodes: Vec<u16> = vec![0];
        let mut entries: HashMap<(u32, u64), u32> = HashMap::new();
        let mut first = [false; 256];
        let mut pairs = Box::new([0u64; 1024]);
        let mut roots = Vec::new();
        for (index, pattern) in patterns.iter().enumerate() {
            let (bytes, Ok(index)) = (pattern.as_bytes(), u32::try_from(index)) else {
                break;
            };
            if bytes.len() < KEY {
                continue;
            }
            first[bytes[0] as usize] = true;
            let pair = usize::from(u16::from_le_bytes([bytes[0], bytes[1]]));
            pairs[pair >> 6] |= 1 << (pair & 63);
            let mut node = ROOT;
            let mut depth = 0;
            while depth + KEY <= bytes.len() {
                let key = bytes_at(bytes, depth, KEY).unwrap_or_default();
                if node == ROOT {
                    roots.push(key);
                }
                let next = nodes.len() as u32;
                let child = *entries.entry((tag(node, EDGE), key)).or_insert(next);
                if child == next {
                    nodes.push(0);
                }
                nodes[node as usize] |= HAS_CHILDREN;
                node = child;
                depth += KEY;
            }
            let rest = bytes.len() - depth;
            let tail = bytes_at(bytes, depth, rest).unwrap_or_default();
            entries
                .entry((tag(node, rest as u32), tail))
                .or_insert(index);
            nodes[node as usize] |= 1 << rest;
        }
        // Thirty-two filter bits per first key: about one in thirty-two looked-up keys that no
        // identity begins with gets past the filter.
        let filter_bits = bits_for(roots.len() * 32);
        let mut filter = vec![0u64; 1 << (filter_bits - 6)];
        for key in roots {
            let bit = hash(tag(ROOT, EDGE), key) >> (64 - filter_bits);
            filter[(bit >> 6) as usize] |= 1 << (bit & 63);
        }
        let slot_bits = bits_for(entries.len() * 2);
        let mut slots = vec![Slot::default(); 1 << slot_bits];
        let mask = slots.len() - 1;
        for ((tag, bytes), value) in entries {
            let mut s = (hash(tag, bytes) >> (64 - slot_bits)) as usize;
            while slots[s].tag != 0 {
                s = (s + 1) & mask;
            }
            slots[s] = Slot { bytes, tag, value };
        }
        IdentitySearch {
            filter,
            filter_shift: 64 - filter_bits,
            slots,
            slot_shift: 64 - slot_bits,
            nodes,
            pairs,
            specials: (0..=255u8)
                .filter(|&b| first[b as usize] && !WORD[b as usize])
                .collect(),
        }
    }

    fn get(&self, tag: u32, bytes: u64, hash: u64) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut s = (hash >> self.slot_shift) as usize;
        loop {
            let slot = self.slots[s];
            if slot.tag == 0 {
                return None;
            }
            if slot.tag == tag && slot.bytes == bytes {
                return Some(slot.value);
            }
            s = (s + 1) & mask;
        }
    }

    fn lookup(&self, node: u32, length: u32, bytes: u64) -> Option<u32> {
        let tag = tag(node, length);
        self.get(tag, bytes, hash(tag, bytes))
    }

    /// Every whole-word occurrence in `text`. A value counts as a word when the bytes beside
    /// it are not letters, digits, `-` or `_`: `vpc-0dev` is not in `vpc-0dev2`.
    pub fn scan(&self, text: &[u8]) -> Vec<Hit> {
        let mut hits = Vec::new();
        if self.nodes[ROOT as usize] == 0 || text.len() < KEY {
            return hits;
        }
        let root = tag(ROOT, EDGE);
        let last = text.len() - KEY;
        // Whether the byte before the block continues a word.
        let mut carry = 0u64;
        let mut base = 0;
        while base <= last {
            let block: [u8; 64] = match text.get(base..base + 64) {
                Some(slice) => slice.try_into().unwrap_or([0; 64]),
                None => {
                    // Zero is no word byte and starts no identity.
                    let mut padded = [0u8; 64];
                    padded[..text.len() - base].copy_from_slice(&text[base..]);
                    padded
                }
            };
            let masks = Masks::of(&block, &self.specials);
            let after_word = (masks.word << 1) | carry;
            carry = masks.word >> 63;
            let mut starts = !after_word & (masks.word | masks.special);
            while starts != 0 {
                let i = starts.trailing_zeros() as usize;
                starts &= starts - 1;
                let at = base + i;
                if at > last {
                    break;
                }
                // `at + 1` is inside: `at` is at most `text.len() - KEY`.
                let pair = usize::from(u16::from_le_bytes([text[at], text[at + 1]]));
                if self.pairs[pair >> 6] & (1 << (pair & 63)) == 0 {
                    continue;
                }
                let Some(key) = bytes_at(text, at, KEY) else {
                    break;
                };
                let h = hash(root, key);
                let bit = h >> self.filter_shift;
                if self.filter[(bit >> 6) as usize] & (1 << (bit & 63)) == 0 {
                    continue;
                }
                if let Some(node) = self.get(root, key, h) {
                    self.follow(text, at, node, &mut hits);
                }
            }
            base += 64;
        }
        hits
    }

    /// From `node`, eight bytes past `at`: the identities that end in `text` as words.
    fn follow(&self, text: &[u8], at: usize, mut node: u32, hits: &mut Vec<Hit>) {
        let mut depth = at + KEY;
        loop {
            let marks = self.nodes[node as usize];
            let mut ends = marks & 0xff;
            while ends != 0 {
                let rest = ends.trailing_zeros() as usize;
                ends &= ends - 1;
                let end = depth + rest;
                if text.get(end).is_some_and(|&b| WORD[b as usize]) {
                    continue;
                }
                let Some(tail) = bytes_at(text, depth, rest) else {
                    return;
                };
                if let Some(p) = self.lookup(node, rest as u32, tail) {
                    hits.push(Hit {
                        pattern: p as usize,
                        offset: at,
                    });
                }
            }
            if marks & HAS_CHILDREN == 0 {
                return;
            }
            let Some(key) = bytes_at(text, depth, KEY) else {
                return;
            };
            match self.lookup(node, EDGE, key) {
                Some(child) => node = child,
                None => return,
            }
            depth += KEY;
        }
    }
}

/// One bit per byte of a 64-byte block (bit i for byte i).
#[derive(Debug, PartialEq, Eq)]
struct Masks {
    /// Bytes that continue a word.
    word: u64,
    /// Bytes of `specials`, the non-word bytes an identity starts with.
    special: u64,
}

impl Masks {
    /// Sixteen bytes per compare with SSE2, which every x86-64 processor has.
    #[cfg(target_arch = "x86_64")]
    fn of(block: &[u8; 64], specials: &[u8]) -> Masks {
        use std::arch::x86_64::{
            __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_min_epu8,
            _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        };
        if specials.len() > 4 {
            return Masks::portable(block, specials);
        }
        let mut masks = Masks {
            word: 0,
            special: 0,
        };
        for (i, lane) in block.chunks_exact(16).enumerate() {
            // SAFETY: `lane` is 16 readable bytes and the load is unaligned; SSE2 is part of
            // the x86-64 baseline, so these instructions always exist.
            unsafe {
                let v = _mm_loadu_si128(lane.as_ptr().cast::<__m128i>());
                let splat = |c: u8| _mm_set1_epi8(c as i8);
                let within = |v: __m128i, lo: u8, hi: u8| {
                    _mm_and_si128(
                        _mm_cmpeq_epi8(_mm_max_epu8(v, splat(lo)), v),
                        _mm_cmpeq_epi8(_mm_min_epu8(v, splat(hi)), v),
                    )
                };
                let bits = |m: __m128i| (_mm_movemask_epi8(m) as u16 as u64) << (16 * i);
                // Upper- and lower-case letters differ only in the 0x20 bit, and only they
                // land in `a..=z` with it set.
                let letter = within(_mm_or_si128(v, splat(0x20)), b'a', b'z');
                let digit = within(v, b'0', b'9');
                let joiner = _mm_or_si128(
                    _mm_cmpeq_epi8(v, splat(b'-')),
                    _mm_cmpeq_epi8(v, splat(b'_')),
                );
                masks.word |= bits(_mm_or_si128(_mm_or_si128(letter, digit), joiner));
                for &c in specials {
                    masks.special |= bits(_mm_cmpeq_epi8(v, splat(c)));
                }
            }
        }
        masks
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn of(block: &[u8; 64], specials: &[u8]) -> Masks {
        Masks::portable(block, specials)
    }

    /// Byte by byte: other processors, many specials, and the reference the vector version is
    /// tested against.
    fn portable(block: &[u8; 64], specials: &[u8]) -> Masks {
        let mask = |matches: &dyn Fn(u8) -> bool| {
            block
                .iter()
                .enumerate()
                .fold(0u64, |m, (i, &b)| m | ((matches(b) as u64) << i))
        };
        Masks {
            word: mask(&|b| WORD[b as usize]),
            special: mask(&|b| specials.contains(&b)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::{AhoCorasick, MatchKind};
    use proptest::prelude::*;

    /// What the search must find: every overlapping occurrence an automaton reports, kept
    /// when the bytes beside it are no word bytes.
    fn reference(patterns: &[String], text: &[u8]) -> Vec<Hit> {
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(patterns)
            .unwrap();
        let hits: Vec<Hit> = ac
            .find_overlapping_iter(text)
            .filter(|m| {
                let before = m.start().checked_sub(1).map(|i| text[i]);
                let after = text.get(m.end()).copied();
                !before.is_some_and(is_word) && !after.is_some_and(is_word)
            })
            .map(|m| Hit {
                pattern: m.pattern().as_usize(),
                offset: m.start(),
            })
            .collect();
        sorted(hits)
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn sorted(mut hits: Vec<Hit>) -> Vec<Hit> {
        hits.sort_by_key(|h| (h.offset, h.pattern));
        hits
    }

    #[test]
    fn whole_words_only_at_any_place_in_a_value() {
        let patterns = strings(&[
            "vpc-0dev1",
            "pcx-12345678",
            "arn:aws:ec2:x:1:vpc/vpc-0dev1",
            "/subscriptions/s1/rg",
        ]);
        let search = IdentitySearch::new(&patterns);
        let text = br#"{"a":"vpc-0dev1","b":"vpc-0dev12","c":"arn:x:pcx-12345678/y","d":"xvpc-0dev1","e":"arn:aws:ec2:x:1:vpc/vpc-0dev1","f":"/subscriptions/s1/rg/x","g":"a/subscriptions/s1/rg"}"#;
        let hits = search.scan(text);
        let found: Vec<(usize, &str)> = hits
            .iter()
            .map(|h| {
                let end = h.offset + patterns[h.pattern].len();
                (
                    h.pattern,
                    std::str::from_utf8(&text[h.offset..end]).unwrap(),
                )
            })
            .collect();
        // "vpc-0dev12" and "xvpc-0dev1" are other words; the ARN holds the VPC id after a `/`;
        // an Azure id starting with `/` is one after a quote, and none after a letter.
        assert_eq!(
            found,
            [
                (0, "vpc-0dev1"),
                (1, "pcx-12345678"),
                (2, "arn:aws:ec2:x:1:vpc/vpc-0dev1"),
                (0, "vpc-0dev1"),
                (3, "/subscriptions/s1/rg"),
            ]
        );
        assert_eq!(sorted(hits), reference(&patterns, text));
    }

    #[test]
    fn identities_sharing_a_key_and_the_ends_of_the_text() {
        let patterns = strings(&[
            "i-0123456789",
            "i-01234567",
            "i-0123456",
            "arn:aws:ec2:us-e",
            "arn:aws:ec2:us-east-1:1:vpc/vpc-1",
            "arn:aws:ec2:us-east-1:1:vpc/vpc-2",
        ]);
        let search = IdentitySearch::new(&patterns);
        for text in [
            &b"i-0123456789"[..],
            b"\"arn:aws:ec2:us-east-1:1:vpc/vpc-2\",\"arn:aws:ec2:us-e\"",
            b"arn:aws:ec2:us-east-1:1:vpc/vpc-3 arn:aws:ec2:us-east-1:1:vpc/vpc-1",
            b"arn:aws:ec2:us-east-1:1:vpc/vpc-",
            b"i-01234567",
            b"[i-01234567,i-0123456789]",
            b"i-0123456",
            b"i-012345",
            b"",
        ] {
            assert_eq!(
                sorted(search.scan(text)),
                reference(&patterns, text),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
        assert!(IdentitySearch::new(&[]).scan(b"anything at all").is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// The vector masks are the byte-by-byte ones, for any bytes and up to four specials.
        #[test]
        fn masks_are_the_portable_ones(
            block in prop::array::uniform32(any::<u8>()),
            other in prop::array::uniform32(any::<u8>()),
            specials in prop::collection::vec(any::<u8>(), 0..6),
        ) {
            let mut whole = [0u8; 64];
            whole[..32].copy_from_slice(&block);
            whole[32..].copy_from_slice(&other);
            prop_assert_eq!(Masks::of(&whole, &specials), Masks::portable(&whole, &specials));
        }

        /// The same hits as the overlapping automaton, on text made of the identities' own
        /// pieces and the bytes JSON puts between them.
        #[test]
        fn finds_what_an_automaton_finds(
            raw in prop::collection::btree_set("(arn:aws:ec2:[ab0]{0,2}:)?[ab0_/:-]{8,20}", 1..12),
            picks in prop::collection::vec((0usize..12, 0usize..42, "[ab0_/:\",{ -]{0,3}"), 0..40),
        ) {
            let patterns: Vec<String> = raw.into_iter().collect();
            let mut text = Vec::new();
            for (p, cut, glue) in picks {
                let p = patterns[p % patterns.len()].as_bytes();
                text.extend_from_slice(&p[..cut.min(p.len())]);
                text.extend_from_slice(glue.as_bytes());
            }
            let search = IdentitySearch::new(&patterns);
            prop_assert_eq!(sorted(search.scan(&text)), reference(&patterns, &text));
        }
    }
}
