package store

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/impact-dev/impact/internal/model"
)

// Canonical drafts. A draft is stored as json.Marshal encodes it, but a
// draft written by another build of impact (another model.Draft, another
// Go) may not be what this build would write for the same draft. When
// every stored draft is exactly this build's json.Marshal of its own
// decoding, a reader can turn the stored JSON into another encoding of
// the same draft without decoding it (render's export does, for 100,000
// drafts in a fraction of the time).
//
// meta/draft_encoding holds the encoding the drafts are in: this build's
// draftEncoding(), a NUL, then "1" when every draft is canonical in it,
// "0" when some are not. A read-write Open of a store whose drafts are in
// another encoding re-encodes each draft that decodes into model.Draft
// with no field left over (canonicalizeDrafts); one with fields this build
// does not know (written by a newer build) is left as it is — re-encoding
// would lose them — and the store says "0". Every later write of a draft
// is this build's json.Marshal, so "1" stays true.

// draftEncoding names how this build encodes a draft: the Go release (its
// encoding/json) and model.Draft's shape as JSON sees it (fields, tags,
// types, and which types encode themselves).
func draftEncoding() string {
	var b strings.Builder
	b.WriteString(runtime.Version())
	describeType(&b, reflect.TypeFor[model.Draft](), map[reflect.Type]bool{})
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:8])
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

func describeType(b *strings.Builder, t reflect.Type, seen map[reflect.Type]bool) {
	fmt.Fprintf(b, "(%s %s", t.PkgPath(), t.String())
	defer b.WriteString(")")
	if seen[t] {
		return
	}
	seen[t] = true
	for _, m := range []reflect.Type{jsonMarshaler, textMarshaler} {
		if t.Implements(m) || reflect.PointerTo(t).Implements(m) {
			b.WriteString(" marshals itself")
			return
		}
	}
	switch t.Kind() {
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			fmt.Fprintf(b, " %s %q %v ", f.Name, f.Tag.Get("json"), f.Anonymous)
			describeType(b, f.Type, seen)
		}
	case reflect.Map:
		describeType(b, t.Key(), seen)
		describeType(b, t.Elem(), seen)
	case reflect.Pointer, reflect.Slice, reflect.Array:
		describeType(b, t.Elem(), seen)
	}
}

// CanonicalDrafts reports whether every stored draft is exactly what
// json.Marshal of model.Draft, in this build, writes for it.
func (s *Store) CanonicalDrafts() bool { return s.canonical }

// initDraftEncoding reads (and on a read-write open, makes) the drafts'
// encoding.
func (s *Store) initDraftEncoding() error {
	want := draftEncoding()
	var have []byte
	if err := s.view(func(tx *bolt.Tx) error {
		if m := tx.Bucket(bucketMeta); m != nil {
			have = bytes.Clone(m.Get(keyDraftEncoding))
		}
		return nil
	}); err != nil {
		return err
	}
	if enc, flag, ok := bytes.Cut(have, []byte{0}); ok && string(enc) == want {
		s.canonical = string(flag) == "1"
		return nil
	}
	if s.opts.ReadOnly {
		return nil
	}
	err := s.update(func(tx *bolt.Tx) error {
		all, err := canonicalizeDrafts(tx)
		if err != nil {
			return err
		}
		flag := "0"
		if all {
			flag = "1"
		}
		s.canonical = all
		return tx.Bucket(bucketMeta).Put(keyDraftEncoding, []byte(want+"\x00"+flag))
	})
	if err != nil {
		s.canonical = false
		return fmt.Errorf("store: re-encoding the drafts of %s: %w", s.path, err)
	}
	return nil
}

// canonicalizeDrafts re-encodes every draft whose stored JSON is not this
// build's encoding of it; all is false when a draft could not be (it does
// not decode, or has fields model.Draft lacks) and was left as it is.
func canonicalizeDrafts(tx *bolt.Tx) (all bool, err error) {
	b := tx.Bucket(bucketDrafts)
	if b == nil {
		return true, nil
	}
	all = true
	var redo [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		d, ok := strictDraft(v)
		if !ok {
			all = false
			continue
		}
		if data, err := json.Marshal(d); err != nil || !bytes.Equal(data, v) {
			redo = append(redo, bytes.Clone(k))
		}
	}
	// Not while the cursor walks the bucket.
	for _, k := range redo {
		d, _ := strictDraft(b.Get(k))
		data, err := json.Marshal(d)
		if err != nil {
			all = false
			continue
		}
		if err := putDraftData(tx, string(k), data, headOf(&d)); err != nil {
			return false, err
		}
	}
	return all, nil
}

// strictDraft decodes a stored draft, ok false when it does not decode or
// has a field model.Draft does not.
func strictDraft(v []byte) (model.Draft, bool) {
	var d model.Draft
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return d, false
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return d, false
	}
	return d, true
}
