package render

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
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
// drafts each gives, which must come grouped by category in the export's
// order (store.OrderCompetency). Nothing but the draft being written is
// held in memory.
func WriteExportJSON(w io.Writer, doc ExportDocument, each func(fn func(model.Draft) error) error) error {
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
	cur, n := "", 0
	var draftBuf bytes.Buffer
	draftEnc := json.NewEncoder(&draftBuf)
	draftEnc.SetEscapeHTML(false)
	draftEnc.SetIndent("        ", "  ")
	err = each(func(d model.Draft) error {
		if n == 0 || d.Category != cur {
			if n == 0 {
				bw.WriteString("[\n")
			} else {
				bw.WriteString("\n      ]\n    },\n")
			}
			g, err := indented(Group{Category: d.Category, Title: model.CategoryTitle(d.Category), Drafts: []model.Draft{}}, "    ")
			if err != nil {
				return err
			}
			const groupTail = "[]\n    }\n"
			bw.WriteString("    ")
			bw.Write(g[:len(g)-len(groupTail)])
			bw.WriteString("[\n        ")
			cur = d.Category
		} else {
			bw.WriteString(",\n        ")
		}
		n++
		draftBuf.Reset()
		if err := draftEnc.Encode(Drafts([]model.Draft{d})[0]); err != nil {
			return err
		}
		// Without Encode's newline: the separator or the closing follows.
		_, err := bw.Write(bytes.TrimSuffix(draftBuf.Bytes(), []byte("\n")))
		return err
	})
	if err != nil {
		return err
	}
	if n == 0 {
		bw.WriteString(emptyTail)
	} else {
		bw.WriteString("\n      ]\n    }\n  ]\n}\n")
	}
	return bw.Flush()
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
