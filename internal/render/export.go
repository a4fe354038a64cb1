package render

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// ExportDocument is the JSON export: `impact export -f json` prints it and
// the daemon's GET /v1/export answers it.
type ExportDocument struct {
	Since       *time.Time    `json:"since"`
	Until       *time.Time    `json:"until"`
	Period      *model.Period `json:"period,omitempty"`
	Level       string        `json:"level,omitempty"`
	Status      string        `json:"status"`
	GeneratedAt time.Time     `json:"generated_at"`
	// Highlights are the ids of the statements the level leads with; each
	// is also in its group.
	Highlights []string `json:"highlights,omitzero"`
	Groups     []Group  `json:"groups"`
}

// SetDrafts fills doc's groups (and, with a level, its highlights: always a
// list then) from ds, as render.Review orders and picks them for the level.
func (doc *ExportDocument) SetDrafts(ds []model.Draft) {
	groups, highlights := Review(ds, doc.Level)
	if doc.Level != "" {
		doc.Highlights = make([]string, 0, len(highlights))
		for _, d := range highlights {
			doc.Highlights = append(doc.Highlights, d.ID)
		}
	}
	if doc.Groups = groups; doc.Groups == nil {
		doc.Groups = []Group{}
	}
}

// WriteExportJSON writes doc as JSON does, with doc.Groups made of the
// drafts each gives as their stored JSON, which decode reads; they must
// come grouped by category in the export's order (store.OrderCompetency).
// A nil decode says that each is exactly json.Marshal's encoding of its
// draft (store.Store.CanonicalDrafts): it is then written as the export
// encodes the draft without being decoded (exportCompact).
//
// The drafts are decoded and encoded in parallel, a batch at a time, and
// written in the order each gave them: only a few batches are held in
// memory (exportInFlight × exportBatchSize drafts), whatever the export's size.
// An error from decode or w stops the walk; the first one in the output's
// order is returned.
func WriteExportJSON(w io.Writer, doc ExportDocument, decode func(raw []byte, d *model.Draft) error, each func(fn func(raw []byte) error) error) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	// The document with no groups, cut before its empty list.
	doc.Groups = []Group{}
	head, err := indented(doc, "")
	if err != nil {
		return err
	}
	const emptyTail = "[]\n}\n"
	if !bytes.HasSuffix(head, []byte(emptyTail)) {
		return fmt.Errorf("export: unexpected document encoding")
	}
	bw.Write(head[:len(head)-len(emptyTail)])

	workers := max(1, min(runtime.GOMAXPROCS(0), 4))
	var (
		work  = make(chan *exportBatch)                         // to the workers
		order = make(chan *exportBatch, exportInFlight-workers) // to the writer, in the drafts' order
		stop  = make(chan struct{})                             // closed when the writer gives up
		wrote = make(chan error, 1)                             // the writer's result
		// Batches written, to be used again: their buffers are grown.
		free = make(chan *exportBatch, exportInFlight)
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			var enc draftEncoder
			for b := range work {
				b.err = enc.encode(b, decode)
				close(b.done)
			}
		})
	}
	go func() {
		err := writeGroups(bw, order, free)
		if err != nil {
			close(stop)
		}
		wrote <- err
	}()
	// A batch goes to the writer's queue first, so that the queue's bound
	// is what bounds the batches in flight.
	send := func(b *exportBatch) error {
		select {
		case order <- b:
		case <-stop:
			return errExportStopped
		}
		work <- b
		return nil
	}
	newBatch := func() *exportBatch {
		select {
		case b := <-free:
			return b
		default:
			return &exportBatch{done: make(chan struct{})}
		}
	}
	cur := newBatch()
	readErr := each(func(raw []byte) error {
		cur.raw = append(cur.raw, raw...)
		cur.ends = append(cur.ends, len(cur.raw))
		if len(cur.ends) < exportBatchSize {
			return nil
		}
		b := cur
		cur = newBatch()
		return send(b)
	})
	if readErr == nil && len(cur.ends) > 0 {
		readErr = send(cur)
	}
	close(work)
	close(order)
	wg.Wait()
	if err := <-wrote; err != nil {
		return err
	}
	if readErr != nil {
		return readErr
	}
	return bw.Flush()
}

const (
	// exportBatchSize is how many drafts a worker of WriteExportJSON takes at
	// a time.
	exportBatchSize = 128
	// exportInFlight is how many batches may be read and not yet written.
	exportInFlight = 8
)

// errExportStopped ends the walk over the drafts when the writer has
// failed (its error is the one returned).
var errExportStopped = errors.New("export: stopped")

// exportBatch is a run of drafts on its way through WriteExportJSON.
type exportBatch struct {
	raw  []byte // the drafts' stored JSON, one after another
	ends []int  // where each ends in raw
	// Set by a worker before done is closed: each draft's category and
	// its JSON, indented as in the export, one after another in out.
	cats    []string
	out     []byte
	outEnds []int
	err     error
	done    chan struct{}
}

// reset empties b for the next drafts, keeping its buffers.
func (b *exportBatch) reset() {
	clear(b.cats) // not to hold the strings
	*b = exportBatch{raw: b.raw[:0], ends: b.ends[:0], cats: b.cats[:0], out: b.out[:0], outEnds: b.outEnds[:0], done: make(chan struct{})}
}

// draftEncoder is a worker's encoder of drafts.
type draftEncoder struct {
	buf     bytes.Buffer
	enc     *json.Encoder
	compact []byte
}

// encode decodes b's drafts and writes each as the export does: encoded
// with no HTML escaping (as render.JSON), indented under its group.
func (e *draftEncoder) encode(b *exportBatch, decode func(raw []byte, d *model.Draft) error) error {
	if e.enc == nil {
		e.enc = json.NewEncoder(&e.buf)
		e.enc.SetEscapeHTML(false)
	}
	start := 0
	if decode == nil {
		for _, end := range b.ends {
			var (
				cat string
				err error
			)
			e.compact, cat, err = exportCompact(e.compact[:0], b.raw[start:end])
			if err != nil {
				return err
			}
			start = end
			b.out = appendIndent(b.out, e.compact, "        ", "  ")
			b.outEnds = append(b.outEnds, len(b.out))
			b.cats = append(b.cats, cat)
		}
		return nil
	}
	for _, end := range b.ends {
		var d model.Draft
		if err := decode(b.raw[start:end], &d); err != nil {
			return err
		}
		start = end
		e.buf.Reset()
		// A pointer, so that the draft is not copied into an interface.
		out := Drafts([]model.Draft{d})
		if err := e.enc.Encode(&out[0]); err != nil {
			return err
		}
		b.out = appendIndent(b.out, bytes.TrimSuffix(e.buf.Bytes(), []byte("\n")), "        ", "  ")
		b.outEnds = append(b.outEnds, len(b.out))
		b.cats = append(b.cats, d.Category)
	}
	return nil
}

// writeGroups writes the groups of the export, from "[" to the end of the
// document, with the drafts of the batches order gives, each batch once
// its worker is done with it; then it gives the batch, emptied, to free
// if there is room.
func writeGroups(bw *bufio.Writer, order <-chan *exportBatch, free chan<- *exportBatch) error {
	cur, n := "", 0
	for b := range order {
		<-b.done
		if b.err != nil {
			return b.err
		}
		start := 0
		for i, end := range b.outEnds {
			if cat := b.cats[i]; n == 0 || cat != cur {
				if n == 0 {
					bw.WriteString("[\n")
				} else {
					bw.WriteString("\n      ]\n    },\n")
				}
				g, err := indented(Group{Category: cat, Title: model.CategoryTitle(cat), Drafts: []model.Draft{}}, "    ")
				if err != nil {
					return err
				}
				const groupTail = "[]\n    }\n"
				bw.WriteString("    ")
				bw.Write(g[:len(g)-len(groupTail)])
				bw.WriteString("[\n        ")
				cur = cat
			} else {
				bw.WriteString(",\n        ")
			}
			n++
			// Without a newline: the separator or the closing follows.
			if _, err := bw.Write(b.out[start:end]); err != nil {
				return err
			}
			start = end
		}
		b.reset()
		select {
		case free <- b:
		default:
		}
	}
	if n == 0 {
		bw.WriteString("[]\n}\n")
	} else {
		bw.WriteString("\n      ]\n    }\n  ]\n}\n")
	}
	return nil
}

// indented is JSON's encoding of v with every line after the first
// prefixed.
func indented(v any, prefix string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
