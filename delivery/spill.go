package delivery

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Spill segments
//
// A spill directory holds segment files named by a 16-hex-digit id and
// ".seg"; ids order the segments, oldest first. A segment is a sequence of
// records, each
//
//	magic [4]byte   "\xffSTR" while pending, "\xffSTD" once delivered
//	length uint32   little endian, bytes of payload
//	crc uint32      little endian, CRC-32C of length (4 bytes) and payload
//	payload         one batch as JSON lines, spans then events
//
// Records are appended with one write each and never rewritten, except
// that delivering a record overwrites its magic in place, so a restart
// skips it. The magic starts with 0xff, a byte that never occurs in UTF-8
// and so never in a payload: after a damaged record the reader finds the
// next one by scanning for the magic. Appends go to the newest segment,
// which rolls at the segment size. Records that must go before everything
// on disk (batches taken out of memory) are written to a new segment
// whose id is one less than the oldest's.

const (
	segmentExt   = ".seg"
	headerSize   = 12
	maxRecordLen = 256 << 20
	// firstSegmentID leaves room below it for segments written in front
	// of the oldest one.
	firstSegmentID = uint64(1) << 40
	// scanChunk is how much the reader reads at a time when looking for
	// the next record after a damaged one.
	scanChunk = 64 << 10
)

var (
	magicPending = [4]byte{0xff, 'S', 'T', 'R'}
	magicDone    = [4]byte{0xff, 'S', 'T', 'D'}
	castagnoli   = crc32.MakeTable(crc32.Castagnoli)
)

// errSpillFull is the cause of a drop at the spill limit.
var errSpillFull = errors.New("spill limit reached")

// segment is one segment file.
type segment struct {
	id      uint64
	path    string
	f       *os.File // read and write; nil until first used
	size    int64    // bytes in the file
	readOff int64    // where the next record to read starts
	old     bool     // found at startup, written by an earlier Sink
	active  bool     // appends go here
}

// store is the set of segments of one spill directory. It is not safe for
// concurrent use: the Sink guards it with its mutex.
type store struct {
	dir     string
	limit   int64 // most bytes the segments may hold
	segSize int64 // size at which the active segment rolls
	segs    []*segment
	total   int64 // bytes of all segments
	nextID  uint64
	closed  bool
	unlock  func() // releases the directory lock
}

// openStore opens dir, creating it if needed, locks it, and lists the
// segments an earlier Sink left there.
func openStore(dir string, limit, segSize int64) (*store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	st := &store{dir: dir, limit: limit, segSize: segSize, nextID: firstSegmentID, unlock: unlock}
	entries, err := os.ReadDir(dir)
	if err != nil {
		unlock()
		return nil, err
	}
	for _, e := range entries {
		id, ok := parseSegmentName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			unlock()
			return nil, err
		}
		st.segs = append(st.segs, &segment{id: id, path: filepath.Join(dir, e.Name()), size: info.Size(), old: true})
		st.total += info.Size()
		st.nextID = max(st.nextID, id+1)
	}
	slices.SortFunc(st.segs, func(a, b *segment) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	return st, nil
}

func segmentName(id uint64) string { return fmt.Sprintf("%016x%s", id, segmentExt) }

func parseSegmentName(name string) (uint64, bool) {
	hex, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(hex) != 16 {
		return 0, false
	}
	id, err := strconv.ParseUint(hex, 16, 64)
	return id, err == nil
}

// empty reports whether no record is waiting on disk.
func (st *store) empty() bool { return len(st.segs) == 0 }

// hasOld reports whether segments an earlier Sink left are still there.
func (st *store) hasOld() bool {
	return slices.ContainsFunc(st.segs, func(seg *segment) bool { return seg.old })
}

// finishRecord fills in the header of rec, whose first headerSize bytes
// are reserved for it.
func finishRecord(rec []byte) {
	payload := rec[headerSize:]
	copy(rec[0:4], magicPending[:])
	binary.LittleEndian.PutUint32(rec[4:8], uint32(len(payload)))
	crc := crc32.Update(0, castagnoli, rec[4:8])
	crc = crc32.Update(crc, castagnoli, payload)
	binary.LittleEndian.PutUint32(rec[8:12], crc)
}

// append writes rec (header reserved, see finishRecord) after every other
// record. It fails with errSpillFull when the limit would be passed.
func (st *store) append(rec []byte) error {
	if st.closed {
		return errors.New("spill store closed")
	}
	if len(rec)-headerSize > maxRecordLen {
		return fmt.Errorf("batch of %d bytes is larger than a spill record may be", len(rec))
	}
	n := int64(len(rec))
	if st.total+n > st.limit {
		return errSpillFull
	}
	finishRecord(rec)
	var tail *segment
	if k := len(st.segs); k > 0 && st.segs[k-1].active {
		tail = st.segs[k-1]
	}
	if tail != nil && tail.size > 0 && tail.size+n > st.segSize {
		tail.active = false
		_ = tail.f.Sync() // a full segment is made durable once
		tail = nil
	}
	if tail == nil {
		seg, err := st.create(st.nextID)
		if err != nil {
			return err
		}
		st.nextID++
		seg.active = true
		st.segs = append(st.segs, seg)
		tail = seg
	}
	if err := writeAll(tail.f, rec, tail.size); err != nil {
		return err
	}
	tail.size += n
	st.total += n
	return nil
}

// prepend writes recs, in order, before every record on disk, as far as
// the limit allows, and returns how many it wrote.
func (st *store) prepend(recs [][]byte) (int, error) {
	if st.closed {
		return 0, errors.New("spill store closed")
	}
	var buf []byte
	k := 0
	for _, rec := range recs {
		if len(rec)-headerSize > maxRecordLen || st.total+int64(len(buf)+len(rec)) > st.limit {
			break
		}
		finishRecord(rec)
		buf = append(buf, rec...)
		k++
	}
	if k == 0 {
		if len(recs) == 0 {
			return 0, nil
		}
		return 0, errSpillFull
	}
	id := st.nextID
	if len(st.segs) > 0 {
		id = st.segs[0].id - 1
	} else {
		st.nextID++
	}
	seg, err := st.create(id)
	if err != nil {
		return 0, err
	}
	if err := writeAll(seg.f, buf, 0); err != nil {
		seg.f.Close()
		os.Remove(seg.path)
		return 0, err
	}
	// Rare and made of batches that were only in memory: worth a sync.
	_ = seg.f.Sync()
	seg.size = int64(len(buf))
	st.total += seg.size
	st.segs = slices.Insert(st.segs, 0, seg)
	return k, nil
}

// create makes a new, empty segment file.
func (st *store) create(id uint64) (*segment, error) {
	path := filepath.Join(st.dir, segmentName(id))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	syncDir(st.dir)
	return &segment{id: id, path: path, f: f}, nil
}

// writeAll writes b at off; a failed write is cut off again, so that no
// partial record is left for the reader to skip.
func writeAll(f *os.File, b []byte, off int64) error {
	if _, err := f.WriteAt(b, off); err != nil {
		_ = f.Truncate(off)
		return err
	}
	return nil
}

// recordRef locates a record that next returned.
type recordRef struct {
	seg      *segment
	off, end int64
}

// next returns the payload of the oldest pending record, skipping records
// already delivered and damaged ones; corrupted counts the damaged ones.
// Fully read segments are removed on the way.
func (st *store) next() (payload []byte, ref recordRef, corrupted int, ok bool) {
	for len(st.segs) > 0 && !st.closed {
		seg := st.segs[0]
		if seg.readOff >= seg.size {
			st.remove(seg)
			continue
		}
		if seg.f == nil {
			f, err := os.OpenFile(seg.path, os.O_RDWR, 0)
			if err != nil {
				// Unreadable: nothing in it can be replayed.
				corrupted++
				st.remove(seg)
				continue
			}
			seg.f = f
		}
		p, end, done, valid := readRecord(seg.f, seg.readOff, seg.size, true)
		switch {
		case valid && done:
			seg.readOff = end
		case valid:
			return p, recordRef{seg: seg, off: seg.readOff, end: end}, corrupted, true
		default:
			next, skipped := resync(seg.f, seg.readOff+1, seg.size)
			corrupted += 1 + skipped
			seg.readOff = next
		}
	}
	return nil, recordRef{}, corrupted, false
}

// readRecord reads the record at off and verifies its checksum, except
// that with trustDone a delivered record is only checked for a plausible
// header: its payload is not needed, so it is not read.
func readRecord(f *os.File, off, size int64, trustDone bool) (payload []byte, end int64, done, valid bool) {
	if off+headerSize > size {
		return nil, 0, false, false
	}
	var hdr [headerSize]byte
	if _, err := f.ReadAt(hdr[:], off); err != nil {
		return nil, 0, false, false
	}
	var magic [4]byte
	copy(magic[:], hdr[:4])
	if magic != magicPending && magic != magicDone {
		return nil, 0, false, false
	}
	n := int64(binary.LittleEndian.Uint32(hdr[4:8]))
	end = off + headerSize + n
	if n > maxRecordLen || end > size {
		return nil, 0, false, false
	}
	done = magic == magicDone
	if done && trustDone {
		return nil, end, true, true
	}
	payload = make([]byte, n)
	if _, err := f.ReadAt(payload, off+headerSize); err != nil && !errors.Is(err, io.EOF) {
		return nil, 0, false, false
	}
	crc := crc32.Update(0, castagnoli, hdr[4:8])
	crc = crc32.Update(crc, castagnoli, payload)
	if crc != binary.LittleEndian.Uint32(hdr[8:12]) {
		return nil, 0, false, false
	}
	return payload, end, done, true
}

// resync looks for the first valid record at or after from and returns
// its offset (size when there is none), and how many more damaged records
// it passed: places that start with a magic but do not hold a valid record.
func resync(f *os.File, from, size int64) (next int64, skipped int) {
	buf := make([]byte, scanChunk)
	for pos := from; pos < size; {
		n := min(int64(len(buf)), size-pos)
		if _, err := f.ReadAt(buf[:n], pos); err != nil && !errors.Is(err, io.EOF) {
			return size, skipped
		}
		chunk := buf[:n]
		for i := 0; i < len(chunk); {
			j := bytes.IndexByte(chunk[i:], 0xff)
			if j < 0 {
				break
			}
			at := pos + int64(i+j)
			// Any record header is checked in full, delivered or not: in
			// damaged bytes a magic alone proves nothing.
			if _, _, _, ok := readRecord(f, at, size, false); ok {
				return at, skipped
			}
			if at+4 <= size && looksLikeMagic(f, at) {
				skipped++
			}
			i += j + 1
		}
		pos += n
	}
	return size, skipped
}

func looksLikeMagic(f *os.File, at int64) bool {
	var m [4]byte
	if _, err := f.ReadAt(m[:], at); err != nil {
		return false
	}
	return m == magicPending || m == magicDone
}

// consume marks the record at ref delivered, so that neither this Sink
// nor a later one replays it, and removes its segment once fully read.
func (st *store) consume(ref recordRef) {
	if st.closed {
		return
	}
	seg := ref.seg
	// Best effort: if the mark cannot be written, a restart replays the
	// record once more, which is the at-least-once promise.
	_, _ = seg.f.WriteAt(magicDone[:], ref.off)
	seg.readOff = max(seg.readOff, ref.end)
	if seg.readOff >= seg.size {
		st.remove(seg)
	}
}

// remove deletes seg, which has nothing left to read.
func (st *store) remove(seg *segment) {
	i := slices.Index(st.segs, seg)
	if i < 0 {
		return
	}
	st.segs = slices.Delete(st.segs, i, i+1)
	st.total -= seg.size
	if seg.f != nil {
		_ = seg.f.Close()
	}
	_ = os.Remove(seg.path)
}

// close syncs the active segment and releases files and the lock.
func (st *store) close() error {
	if st.closed {
		return nil
	}
	st.closed = true
	var errs []error
	for _, seg := range st.segs {
		if seg.f == nil {
			continue
		}
		if seg.active {
			if err := seg.f.Sync(); err != nil {
				errs = append(errs, err)
			}
		}
		if err := seg.f.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	syncDir(st.dir)
	st.unlock()
	return errors.Join(errs...)
}

// syncDir makes files created or removed in dir survive a crash of the
// machine. Errors are ignored: not every system can sync a directory.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
