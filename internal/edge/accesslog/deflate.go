package accesslog

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math/bits"
	"slices"
)

// gzEncoder writes one gzip file (RFC 1952; deflate, RFC 1951) of log
// lines. A general compressor looks for repeats by hashing the input at
// every few bytes; here each line is instead compared with the one before
// it, a word at a time: lines of one distribution differ in a few fields
// (the time, the request id, the client's address), and the rest of a
// line is the one before's, at the distance of that line's length while
// the fields in between have the same lengths. Where a field differs,
// the comparison picks up at the next field, at the distance between the
// two lines' separators, and a field value seen in an earlier line (a
// user agent, a path) is found through a table of such values by their
// first bytes and length. What differs goes out as literals; each block's
// Huffman codes are built from its own symbol counts.
//
// Against klauspost/compress's gzip at its fastest level (which the
// Writer used before), on the lines of a cached object's hits the files
// are as small (5.5 times smaller than the lines: the bulk of what is
// left is the request ids, random base64) for about 60% of the CPU; on
// lines of varied requests (paths, user agents, clients, sizes) 2% larger
// (4.3 times smaller instead of 4.4) for about 75%.
type gzEncoder struct {
	w    io.Writer
	hist []byte // the uncompressed stream's tail; hist[i] is at stream offset base+i
	base int64
	// d is the distance at which the next line is compared (the last
	// line's length, usually); 0: none yet.
	d int
	// toks are the block's tokens: literal runs (a start in hist and a
	// length) and matches (lengths and distances as deflate codes);
	// outBound bounds their size, encoded.
	toks     []uint64
	outBound int
	litFreq  [numLitLen]uint32
	distFreq [numDist]uint32
	// Counting every literal cost about as much as writing it: the
	// literals of one block in countEvery are counted, and its codes,
	// where every symbol has one, kept for the blocks after it (lines
	// change little from one block to the next).
	blocks    int
	litLens   [numLitLen]uint8
	distLens  [numDist]uint8
	litCodes  [numLitLen]hcode
	distCodes [numDist]hcode
	// seen maps a field value's first bytes and length to where it was
	// last (a stream offset + 1; 0: none).
	seen  [seenSize]int64
	out   []byte
	bits  uint64
	nbits uint
	crc   uint32
	size  uint32
	err   error
}

const (
	windowSize  = 1 << 15 // deflate's largest distance
	minMatch    = 4       // shorter repeats go out as literals
	maxMatch    = 258
	numLitLen   = 286
	numDist     = 30
	blockTokens = 1 << 14
	// the history kept and its size before it is slid down
	histKeep = windowSize
	histMax  = 1 << 17
	seenBits = 12
	seenSize = 1 << seenBits
	// minSeen is the shortest field value looked up in seen.
	minSeen = 8
	// countEvery: see gzEncoder.blocks.
	countEvery = 4
	// litBits is the longest literal/length code (deflate's is 15): four
	// fit a store (writeLiterals).
	litBits = 14
)

func newGzEncoder(w io.Writer) *gzEncoder {
	e := &gzEncoder{w: w}
	// As klauspost/compress's gzip writes it: no name, no time; XFL 4
	// (fastest), OS 255 (unknown).
	e.out = append(e.out, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255)
	return e
}

// reserve makes room in hist for more lines: past histMax, the pending
// block is written and all but the last histKeep bytes let go.
func (e *gzEncoder) reserve() {
	if len(e.hist) < histMax {
		return
	}
	e.writeBlock(false)
	cut := len(e.hist) - histKeep
	e.hist = e.hist[:copy(e.hist, e.hist[cut:])]
	e.base += int64(cut)
}

// write compresses p, whole lines, and returns the first error writing
// the output so far.
func (e *gzEncoder) write(p []byte) error {
	e.reserve()
	from := len(e.hist)
	e.hist = append(e.hist, p...)
	e.addLines(from)
	return e.err
}

// writeText writes p (the file's header) as literals.
func (e *gzEncoder) writeText(p []byte) {
	e.reserve()
	from := len(e.hist)
	e.hist = append(e.hist, p...)
	e.crc = crc32.Update(e.crc, crc32.IEEETable, p)
	e.size += uint32(len(p))
	e.literals(from, len(e.hist))
	e.d = 0
	e.flushOut()
}

// addLines compresses hist[from:], whole lines appended since reserve.
func (e *gzEncoder) addLines(from int) {
	h := e.hist
	if from == len(h) {
		return
	}
	e.crc = crc32.Update(e.crc, crc32.IEEETable, h[from:])
	e.size += uint32(len(h) - from)
	end := len(h)
	i, d, lit := from, e.d, from // literals pending from lit
	if d == 0 {
		i, d = resync(h, i)
	}
	for i < end {
		if d <= 0 || d > windowSize {
			i, d = resync(h, i)
			continue
		}
		m := matchLen(h[i:], h[i-d:])
		if m >= minMatch {
			e.literals(lit, i)
			e.match(d, m)
			i += m
			lit = i
			if len(e.toks) >= blockTokens {
				e.writeBlock(false)
			}
			continue
		}
		// The lines differ at x, in the field ending at ti here and at
		// tj in the other line.
		x := i + m
		if x >= end {
			break
		}
		ti := nextSep(h, x)
		if ti == end {
			break // not a whole line: literals
		}
		tj := ti - d
		if h[tj] >= ' ' {
			// Not a field of the same length (taken to be one when the
			// other line has a separator at the same place).
			tj = nextSep(h, x-d)
		}
		if h[ti] != h[tj] { // one line ends where the other has a field more
			i, d = resync(h, x)
			continue
		}
		if ti-x >= minSeen-1 {
			// Look the field's value up where it starts.
			fs := x
			for fs > 0 && h[fs-1] >= ' ' {
				fs--
			}
			if n := ti - fs; n >= minSeen {
				k := seenKey(h[fs:], n)
				at := e.seen[k] - 1 - e.base
				e.seen[k] = e.base + int64(fs) + 1
				if at >= 0 && fs-int(at) <= windowSize && bytes.Equal(h[at:int(at)+n], h[fs:ti]) {
					// The same value: a match from x to ti at least, which
					// goes on as long as the two lines agree.
					d = fs - int(at)
					m = matchLen(h[x:], h[x-d:])
					e.literals(lit, x)
					e.match(d, m)
					i = x + m
					lit = i
					continue
				}
			}
		}
		// Past what the two fields' ends have in common, go on at their
		// separators' distance.
		k, most := 0, min(ti-x, tj-(x-d))
		for k < most && h[ti-1-k] == h[tj-1-k] {
			k++
		}
		i = ti - k
		d = ti - tj
	}
	e.literals(lit, end)
	e.d = d
	if len(e.toks) >= blockTokens-maxChunkTokens {
		e.writeBlock(false)
	}
	e.flushOut()
}

// maxChunkTokens: a block is written after a chunk when fewer tokens
// than this are left.
const maxChunkTokens = 1024

// resync skips the line at x (as literals) and returns where the next
// one starts and the line's length, the distance to compare it at.
func resync(h []byte, x int) (int, int) {
	ls := bytes.LastIndexByte(h[:x], '\n') + 1
	le := len(h)
	if n := bytes.IndexByte(h[x:], '\n'); n >= 0 {
		le = x + n + 1
	}
	return le, le - ls
}

// seenKey hashes a field value by its first 8 bytes and length.
func seenKey(b []byte, n int) uint64 {
	v := binary.LittleEndian.Uint64(b) ^ uint64(n)<<56
	return (v * 0x9E3779B97F4A7C15) >> (64 - seenBits)
}

// matchLen is the length of a's and b's common prefix (b is at least as
// long as a).
func matchLen(a, b []byte) int {
	b = b[:len(a)]
	n := 0
	for ; n+8 <= len(a); n += 8 {
		if x := binary.LittleEndian.Uint64(a[n:n+8]) ^ binary.LittleEndian.Uint64(b[n:n+8]); x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
	}
	for ; n < len(a); n++ {
		if a[n] != b[n] {
			return n
		}
	}
	return n
}

// nextSep is the index of the first separator (tab or newline: a byte
// below ' ', which fields never hold) in h from p, len(h) if none.
func nextSep(h []byte, p int) int {
	const ones = 0x0101010101010101
	for ; p+8 <= len(h); p += 8 {
		x := binary.LittleEndian.Uint64(h[p : p+8])
		if m := (x - ones*' ') &^ x & (ones * 0x80); m != 0 {
			return p + bits.TrailingZeros64(m)>>3
		}
	}
	for p < len(h) && h[p] >= ' ' {
		p++
	}
	return p
}

// literals adds hist[a:b] as literals.
func (e *gzEncoder) literals(a, b int) {
	if a >= b {
		return
	}
	e.toks = append(e.toks, uint64(a)<<32|uint64(b-a))
	e.outBound += 2 * (b - a) // 15 bits a literal at most
	if e.blocks%countEvery == 0 {
		f := &e.litFreq
		for _, c := range e.hist[a:b] {
			f[c]++
		}
	}
}

const matchToken = 1 << 63

// match adds a repeat of n bytes at distance d.
func (e *gzEncoder) match(d, n int) {
	dc := distCode(d)
	dx := uint64(d - int(distBase[dc]))
	for n > 0 {
		l := n
		if l > maxMatch {
			l = maxMatch
			if n-l < 3 {
				l = n - 3
			}
		}
		n -= l
		lc := lengthCode[l]
		sym := 257 + uint64(lc)
		e.toks = append(e.toks, matchToken|sym|uint64(l-int(lengthBase[lc]))<<9|uint64(dc)<<14|dx<<19)
		e.litFreq[sym]++
		e.distFreq[dc]++
		e.outBound += 6 // 48 bits
	}
}

func distCode(d int) uint8 {
	v := uint32(d - 1)
	if v < 4 {
		return uint8(v)
	}
	nb := uint32(bits.Len32(v)) - 1
	return uint8(2*nb + (v>>(nb-1))&1)
}

var (
	lengthBase = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthBits = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase   = [numDist]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distBits   = [numDist]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// lengthCode is the length code (0-28) of each match length (3-258).
	lengthCode [maxMatch + 1]uint8
	// clOrder is the order in which code length codes' lengths are sent.
	clOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

func init() {
	for c := range lengthBase {
		end := maxMatch + 1
		if c+1 < len(lengthBase) {
			end = int(lengthBase[c+1])
		}
		for l := int(lengthBase[c]); l < end; l++ {
			lengthCode[l] = uint8(c)
		}
	}
}

// putBits writes the low n (at most 32) bits of v.
func (e *gzEncoder) putBits(v uint64, n uint) {
	e.bits |= v << e.nbits
	e.nbits += n
	if e.nbits >= 32 {
		e.out = binary.LittleEndian.AppendUint32(e.out, uint32(e.bits))
		e.bits >>= 32
		e.nbits -= 32
	}
}

// flushBits moves the whole bytes of bits to out.
func (e *gzEncoder) flushBits() {
	for e.nbits >= 8 {
		e.out = append(e.out, byte(e.bits))
		e.bits >>= 8
		e.nbits -= 8
	}
}

// hcode is a Huffman code: its bits, reversed (deflate sends codes from
// their first bit), in the low 16 bits, and its length above.
type hcode uint32

// writeBlock writes the pending tokens as a block with its own Huffman
// codes (and the final empty block when final).
func (e *gzEncoder) writeBlock(final bool) {
	if len(e.toks) > 0 {
		e.writeDynamic()
	}
	if final {
		// BFINAL, fixed codes (01), end of block (seven zero bits).
		e.putBits(1|1<<1, 10)
	}
}

// writeDynamic writes the pending tokens as a block of its own Huffman
// codes (or the last counted block's, see gzEncoder.blocks).
func (e *gzEncoder) writeDynamic() {
	if e.blocks%countEvery == 0 {
		// Codes for every symbol, the block's own counts and one more.
		for i := range e.litFreq {
			e.litFreq[i]++
		}
		for i := range e.distFreq {
			e.distFreq[i]++
		}
		huffLengths(e.litFreq[:], e.litLens[:], litBits)
		huffLengths(e.distFreq[:], e.distLens[:], 15)
		canonical(e.litLens[:], e.litCodes[:])
		canonical(e.distLens[:], e.distCodes[:])
	}
	e.blocks++
	litLens, distLens := &e.litLens, &e.distLens
	litCodes, distCodes := &e.litCodes, &e.distCodes

	nlit := numLitLen
	for nlit > 257 && litLens[nlit-1] == 0 {
		nlit--
	}
	ndist := numDist
	for ndist > 1 && distLens[ndist-1] == 0 {
		ndist--
	}
	// The code lengths, run-length encoded (16: the previous length 3-6
	// times, 17: 3-10 zeros, 18: 11-138 zeros), each symbol with its
	// extra bits' value above bit 8.
	var lens [numLitLen + numDist]uint8
	n := copy(lens[:], litLens[:nlit])
	n += copy(lens[n:], distLens[:ndist])
	var rle [numLitLen + numDist]uint16
	nr := 0
	var clFreq [19]uint32
	for i := 0; i < n; {
		l := lens[i]
		run := 1
		for i+run < n && lens[i+run] == l {
			run++
		}
		i += run
		if l == 0 {
			for run >= 11 {
				r := min(run, 138)
				rle[nr] = 18 | uint16(r-11)<<8
				nr++
				clFreq[18]++
				run -= r
			}
			if run >= 3 {
				rle[nr] = 17 | uint16(run-3)<<8
				nr++
				clFreq[17]++
				run = 0
			}
		} else {
			rle[nr] = uint16(l)
			nr++
			clFreq[l]++
			run--
			for run >= 3 {
				r := min(run, 6)
				rle[nr] = 16 | uint16(r-3)<<8
				nr++
				clFreq[16]++
				run -= r
			}
		}
		for ; run > 0; run-- {
			rle[nr] = uint16(l)
			nr++
			clFreq[l]++
		}
	}
	var clLens [19]uint8
	var clCodes [19]hcode
	huffLengths(clFreq[:], clLens[:], 7)
	canonical(clLens[:], clCodes[:])
	ncl := 19
	for ncl > 4 && clLens[clOrder[ncl-1]] == 0 {
		ncl--
	}

	e.putBits(2<<1, 3) // not final, dynamic codes (10)
	e.putBits(uint64(nlit-257)|uint64(ndist-1)<<5|uint64(ncl-4)<<10, 14)
	for _, s := range clOrder[:ncl] {
		e.putBits(uint64(clLens[s]), 3)
	}
	for _, r := range rle[:nr] {
		s := r & 0xff
		c := clCodes[s]
		e.putBits(uint64(c&0xffff), uint(c>>16))
		switch s {
		case 16:
			e.putBits(uint64(r>>8), 2)
		case 17:
			e.putBits(uint64(r>>8), 3)
		case 18:
			e.putBits(uint64(r>>8), 7)
		}
	}

	// The tokens. Bits are stored 8 bytes at a time, unconditionally,
	// of which the whole bytes are kept: out has room for them (outBound)
	// and a store's 8 bytes.
	e.flushBits()
	e.out = slices.Grow(e.out, e.outBound+16)
	out := e.out[:cap(e.out)]
	pos, bb, nb := writeTokens(out, len(e.out), e.bits, e.nbits, e.toks, e.hist, litCodes, distCodes)
	e.out = out[:pos]
	e.bits, e.nbits = bb, nb
	c := litCodes[256]
	e.putBits(uint64(c&0xffff), uint(c>>16))

	e.toks = e.toks[:0]
	e.outBound = 0
	e.litFreq = [numLitLen]uint32{}
	e.distFreq = [numDist]uint32{}
}

// writeTokens writes toks (their literals from hist) to out from pos,
// which has room for them and 8 bytes more, after the bits bb (nb of
// them, fewer than 8) and returns where they end.
func writeTokens(out []byte, pos int, bb uint64, nb uint, toks []uint64, hist []byte, lit *[numLitLen]hcode, dist *[numDist]hcode) (int, uint64, uint) {
	for _, t := range toks {
		if t&matchToken == 0 {
			pos, bb, nb = writeLiterals(out, pos, bb, nb, hist[t>>32:t>>32+t&0xffffffff], lit)
			continue
		}
		sym := t & 511
		lc := lit[sym]
		bb |= uint64(lc&0xffff) << (nb & 63)
		nb += uint(lc >> 16)
		bb |= (t >> 9 & 31) << (nb & 63)
		nb += uint(lengthBits[(sym-257)%29])
		dc := t >> 14 & 31
		c := dist[dc%numDist]
		bb |= uint64(c&0xffff) << (nb & 63)
		nb += uint(c >> 16)
		bb |= (t >> 19 & (1<<13 - 1)) << (nb & 63)
		nb += uint(distBits[dc%numDist])
		binary.LittleEndian.PutUint64(out[pos:pos+8], bb)
		pos += int(nb >> 3)
		bb >>= nb & 56
		nb &= 7
	}
	return pos, bb, nb
}

// writeLiterals writes lits as writeTokens does, four to a store: their
// codes, of litBits at most, are put together first (their shifts do not
// wait on the bits before them), 56 bits after fewer than 8.
func writeLiterals(out []byte, pos int, bb uint64, nb uint, lits []byte, lit *[numLitLen]hcode) (int, uint64, uint) {
	for len(lits) >= 4 {
		l4 := (*[4]byte)(lits)
		lits = lits[4:]
		c0, c1, c2, c3 := lit[l4[0]], lit[l4[1]], lit[l4[2]], lit[l4[3]]
		n0, n1, n2 := uint(c0>>16), uint(c1>>16), uint(c2>>16)
		v := uint64(c0&0xffff) | uint64(c1&0xffff)<<(n0&63) | uint64(c2&0xffff)<<((n0+n1)&63) |
			uint64(c3&0xffff)<<((n0+n1+n2)&63)
		bb |= v << (nb & 63)
		nb += n0 + n1 + n2 + uint(c3>>16)
		binary.LittleEndian.PutUint64(out[pos:pos+8], bb)
		pos += int(nb >> 3)
		bb >>= nb & 56
		nb &= 7
	}
	for _, c := range lits {
		lc := lit[c]
		bb |= uint64(lc&0xffff) << (nb & 63)
		nb += uint(lc >> 16)
	}
	binary.LittleEndian.PutUint64(out[pos:pos+8], bb)
	pos += int(nb >> 3)
	bb >>= nb & 56
	nb &= 7
	return pos, bb, nb
}

// flushOut hands the whole bytes written so far on to w.
func (e *gzEncoder) flushOut() {
	if len(e.out) < fileBuffer && e.err == nil {
		return
	}
	if e.err == nil {
		_, e.err = e.w.Write(e.out)
	}
	e.out = e.out[:0]
}

// close writes the last block, the final one and the trailer.
func (e *gzEncoder) close() error {
	e.writeBlock(true)
	if e.nbits > 0 {
		e.out = binary.LittleEndian.AppendUint64(e.out, e.bits)[:len(e.out)+int(e.nbits+7)/8]
		e.bits, e.nbits = 0, 0
	}
	e.out = binary.LittleEndian.AppendUint32(e.out, e.crc)
	e.out = binary.LittleEndian.AppendUint32(e.out, e.size)
	if e.err == nil {
		_, e.err = e.w.Write(e.out)
	}
	e.out = e.out[:0]
	return e.err
}

// huffLengths sets lens to the code lengths, at most max, of a Huffman
// code for symbols of frequencies freq (zero: no code). The code is
// always complete, of two symbols at least (a symbol with none gets one),
// as zlib's inflate wants.
func huffLengths(freq []uint32, lens []uint8, max int) {
	type sym struct{ f, s uint32 }
	var buf [numLitLen]sym
	syms := buf[:0]
	for s, f := range freq {
		if f > 0 {
			syms = append(syms, sym{f, uint32(s)})
		}
	}
	for s := 0; len(syms) < 2; s++ {
		if freq[s] == 0 {
			syms = append(syms, sym{1, uint32(s)})
		}
	}
	slices.SortFunc(syms, func(a, b sym) int {
		if a.f != b.f {
			return int(a.f) - int(b.f)
		}
		return int(a.s) - int(b.s)
	})
	// Moffat and Katajainen's in-place minimum-redundancy code lengths,
	// over the frequencies in ascending order (as miniz computes them).
	n := len(syms)
	var abuf [numLitLen]uint32
	a := abuf[:n]
	for i, s := range syms {
		a[i] = s.f
	}
	a[0] += a[1]
	root, leaf := 0, 2
	for next := 1; next < n-1; next++ {
		if leaf >= n || a[root] < a[leaf] {
			a[next] = a[root]
			a[root] = uint32(next)
			root++
		} else {
			a[next] = a[leaf]
			leaf++
		}
		if leaf >= n || (root < next && a[root] < a[leaf]) {
			a[next] += a[root]
			a[root] = uint32(next)
			root++
		} else {
			a[next] += a[leaf]
			leaf++
		}
	}
	a[n-2] = 0
	for next := n - 3; next >= 0; next-- {
		a[next] = a[a[next]] + 1
	}
	avbl, used, depth := 1, 0, uint32(0)
	root, next := n-2, n-1
	for avbl > 0 {
		for root >= 0 && a[root] == depth {
			used++
			root--
		}
		for avbl > used {
			a[next] = depth
			next--
			avbl--
		}
		avbl = 2 * used
		depth++
		used = 0
	}
	// Limit the lengths to max (miniz's tdefl_huffman_enforce_max_code_size):
	// longer codes become max long, then codes are lengthened until the
	// code is complete again.
	var count [33]int
	for _, l := range a {
		count[l]++
	}
	for l := max + 1; l < len(count); l++ {
		count[max] += count[l]
		count[l] = 0
	}
	total := 0
	for l := max; l > 0; l-- {
		total += count[l] << (max - l)
	}
	for total != 1<<max {
		count[max]--
		for l := max - 1; l > 0; l-- {
			if count[l] > 0 {
				count[l]--
				count[l+1] += 2
				break
			}
		}
		total--
	}
	// The most frequent symbols get the shortest codes.
	clear(lens)
	j := n
	for l := 1; l <= max; l++ {
		for c := count[l]; c > 0; c-- {
			j--
			lens[syms[j].s] = uint8(l)
		}
	}
}

// canonical sets codes to the canonical Huffman codes of lens.
func canonical(lens []uint8, codes []hcode) {
	var count, next [16]uint16
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	c := uint16(0)
	for l := 1; l < 16; l++ {
		c = (c + count[l-1]) << 1
		next[l] = c
	}
	for s, l := range lens {
		if l == 0 {
			codes[s] = 0
			continue
		}
		v := next[l]
		next[l]++
		codes[s] = hcode(bits.Reverse16(v)>>(16-l)) | hcode(l)<<16
	}
}
