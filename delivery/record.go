package delivery

import (
	"bytes"
	"errors"
	"io"
	"sync"

	"github.com/stagetrace/stagetrace"
)

// maxPooledRecord is the largest record buffer kept for reuse.
const maxPooledRecord = 4 << 20

// recordEncoder encodes batches as spill record payloads. Its Encoder
// caches encoded resources, which batches of one exporter share.
type recordEncoder struct {
	enc stagetrace.Encoder
	buf []byte
}

var encoders = sync.Pool{New: func() any { return new(recordEncoder) }}

// encodeRecord returns b as a spill record: headerSize bytes left for
// finishRecord, then the spans and events of b as JSON lines. The result
// is a new slice the caller owns.
func encodeRecord(b stagetrace.Batch) []byte {
	e := encoders.Get().(*recordEncoder)
	buf := append(e.buf[:0], make([]byte, headerSize)...)
	for i := range b.Spans {
		buf = e.enc.AppendSpan(buf, &b.Spans[i])
	}
	for i := range b.Events {
		buf = e.enc.AppendEvent(buf, &b.Events[i])
	}
	rec := bytes.Clone(buf)
	if cap(buf) <= maxPooledRecord {
		e.buf = buf[:0]
		encoders.Put(e)
	}
	return rec
}

// decodeRecord reads a batch back from a record payload.
func decodeRecord(payload []byte) (stagetrace.Batch, error) {
	var b stagetrace.Batch
	dec := stagetrace.NewDecoder(bytes.NewReader(payload))
	for {
		rec, err := dec.Next()
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return stagetrace.Batch{}, err
		}
		if rec.Span != nil {
			b.Spans = append(b.Spans, *rec.Span)
		} else {
			b.Events = append(b.Events, *rec.Event)
		}
	}
}
