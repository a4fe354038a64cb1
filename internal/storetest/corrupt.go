// Package storetest damages store files the ways a disk, a crash or a
// careless copy does, for the corrupt-store tests of the store, every
// command and the daemon.
package storetest

import (
	"encoding/binary"
	"math/rand/v2"
)

// Kind is one way to damage a store file.
type Kind struct {
	Name string
	// Seeds is how many variants (seeds 0..Seeds-1) the tests run.
	Seeds int
	// MustDetect: opening the damaged file must fail with ErrDamaged. Damage
	// bbolt cannot see (a flipped bit inside a value) need not be detected,
	// but must never panic.
	MustDetect bool
}

// Kinds are the corruptions the corrupt-store tables run.
var Kinds = []Kind{
	{Name: "zero-length", Seeds: 1, MustDetect: true},
	{Name: "truncated", Seeds: 3, MustDetect: true},
	{Name: "random-pages", Seeds: 8, MustDetect: true},
	{Name: "meta-checksum", Seeds: 1, MustDetect: true},
	{Name: "flipped-bits", Seeds: 8},
}

// Corrupt returns a damaged copy of a store file's bytes.
//
//   - zero-length: an empty file.
//   - truncated: seed 0 cuts the file in half, 1 after its third page,
//     2 after 100 bytes.
//   - random-pages: a quarter of the pages after the two meta pages are
//     overwritten with random bytes.
//   - meta-checksum: one byte of each meta page changes, so neither meta
//     page's checksum holds.
//   - flipped-bits: 64 random bits after the meta pages flip.
func Corrupt(data []byte, kind string, seed uint64) []byte {
	out := append([]byte(nil), data...)
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	ps := 4096
	if len(data) >= 28 {
		if v := int(binary.NativeEndian.Uint32(data[24:])); v >= 512 && v <= 1<<16 {
			ps = v
		}
	}
	pages := len(data) / ps
	switch kind {
	case "zero-length":
		return nil
	case "truncated":
		switch seed {
		case 0:
			return out[:len(out)/2]
		case 1:
			return out[:3*ps]
		default:
			return out[:100]
		}
	case "random-pages":
		for range max(1, (pages-2)/4) {
			p := 2 + r.IntN(pages-2)
			for i := p * ps; i < (p+1)*ps; i++ {
				out[i] = byte(r.Uint32())
			}
		}
	case "meta-checksum":
		for _, p := range []int{0, 1} {
			out[p*ps+16+48] ^= 0xff // the txid, covered by the checksum
		}
	case "flipped-bits":
		for range 64 {
			i := 2*ps + r.IntN(len(out)-2*ps)
			out[i] ^= 1 << r.IntN(8)
		}
	default:
		panic("storetest: unknown corruption " + kind)
	}
	return out
}
