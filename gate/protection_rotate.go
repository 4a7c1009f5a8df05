package gate

import (
	"context"
	"fmt"
	"slices"
	"time"

	"tresor"
	"tresor/vault"
)

// KeyStatus describes the key-encryption key and the data keys under it.
type KeyStatus struct {
	Source   string      `json:"source"`
	Current  int         `json:"current_version"`
	Versions []int       `json:"versions"`
	DataKeys map[int]int `json:"data_keys_per_version"`
	// Pending counts the data keys not yet under the current version: a
	// rotation is under way or was interrupted (`tresor keys rotate` resumes).
	Pending int `json:"pending"`
}

// KeyStatus reports the key-encryption key's versions and the data keys.
func (g *Gate) KeyStatus(ctx context.Context) (*KeyStatus, error) {
	kr := g.keys.KEK
	if err := kr.Reload(ctx); err != nil {
		return nil, err
	}
	counts, err := g.store.Read().DataKeyCounts(ctx)
	if err != nil {
		return nil, err
	}
	st := &KeyStatus{Current: kr.Current(), Versions: kr.Versions(), DataKeys: counts}
	if src := kr.Source(); src != nil {
		st.Source = src.Describe()
	}
	for v, n := range counts {
		if v != st.Current {
			st.Pending += n
		}
	}
	return st, nil
}

// RotateReport says what a rotation did.
type RotateReport struct {
	From, To  []int // versions in use before, and the current one after
	Added     bool  // a new version was made
	Rewrapped int
	Pending   int // keys still under an older version (written meanwhile by a server that had not reloaded yet)
	Duration  time.Duration
}

// RotateKEK moves every data key under a new version of the key-encryption
// key. It adds the version (to a key file or a KMS; an environment variable
// must be given it by the operator) unless an earlier rotation was
// interrupted, then re-wraps the data keys in batches, each its own
// transaction, so that it runs beside a serving Tresor and resumes where it
// stopped. The data itself is not touched. progress, if set, is called
// after each batch.
func (g *Gate) RotateKEK(ctx context.Context, progress func(done int)) (*RotateReport, error) {
	start := time.Now()
	kr := g.keys.KEK
	// A KMS source first moves the stored KEK versions under the KMS's own
	// newest key (after the KMS rotated it).
	if kms, ok := kr.Source().(interface {
		Rewrap(context.Context) (int, error)
	}); ok {
		if _, err := kms.Rewrap(ctx); err != nil {
			return nil, err
		}
	}
	if err := kr.Reload(ctx); err != nil {
		return nil, err
	}
	counts, err := g.store.Read().DataKeyCounts(ctx)
	if err != nil {
		return nil, err
	}
	rep := &RotateReport{}
	for v := range counts {
		rep.From = append(rep.From, v)
	}
	slices.Sort(rep.From)
	known, err := g.store.Read().KEKVersions(ctx)
	if err != nil {
		return nil, err
	}
	newest := 0
	for _, k := range known {
		newest = max(newest, k.Version)
	}
	behind := 0
	for v, n := range counts {
		if v != kr.Current() {
			behind += n
		}
	}
	// A version the database has not seen (given by the operator in the
	// environment) or keys left behind by an interrupted rotation: rotate to
	// the current version. Otherwise make a new one.
	if kr.Current() <= newest && behind == 0 {
		if _, err := kr.AddVersion(ctx); err != nil {
			return nil, err
		}
		rep.Added = true
	}
	if err := registerKEK(ctx, g.store, kr, known); err != nil {
		return nil, err
	}
	current := kr.Current()
	for pass := 0; pass < 3; pass++ {
		n, err := g.rewrapAll(ctx, current, rep.Rewrapped, progress)
		rep.Rewrapped += n
		if err != nil {
			return rep, err
		}
		if n == 0 {
			break
		}
	}
	counts, err = g.store.Read().DataKeyCounts(ctx)
	if err != nil {
		return rep, err
	}
	for v, n := range counts {
		if v != current {
			rep.Pending += n
		}
	}
	rep.To, rep.Duration = []int{current}, time.Since(start)
	g.event(ctx, "keys.rotated", fmt.Sprintf("v%d", current), fmt.Sprintf("rewrapped=%d pending=%d", rep.Rewrapped, rep.Pending))
	return rep, nil
}

// rewrapBatch is how many data keys one transaction re-wraps.
const rewrapBatch = 2000

// rewrapAll re-wraps every data key not under version current.
func (g *Gate) rewrapAll(ctx context.Context, current, done int, progress func(int)) (int, error) {
	n, after := 0, ""
	for {
		keys, err := g.store.Read().DataKeysNotUnder(ctx, current, after, rewrapBatch)
		if err != nil {
			return n, err
		}
		if len(keys) == 0 {
			return n, nil
		}
		next := make([]tresor.WrappedKey, len(keys))
		for i, k := range keys {
			if next[i], err = g.keys.KEK.Rewrap(ctx, k); err != nil {
				return n, err
			}
		}
		prev := make([]int, len(keys))
		for i, k := range keys {
			prev[i] = k.KEKVersion
		}
		err = g.store.Update(ctx, func(tx tresor.Tx) error {
			// Only keys still under their old version: an erasure or a
			// concurrent rotation may have changed one meanwhile.
			_, err := tx.RewrapDataKeys(ctx, next, prev)
			return err
		})
		if err != nil {
			return n, err
		}
		n += len(keys)
		if progress != nil {
			progress(done + n)
		}
		after = keys[len(keys)-1].Subject
		if len(keys) < rewrapBatch {
			return n, nil
		}
	}
}

// registerKEK records the check value of every version the database does
// not know yet.
func registerKEK(ctx context.Context, store tresor.Store, kr *vault.Keyring, known []tresor.KEKVersion) error {
	return store.Update(ctx, func(tx tresor.Tx) error {
		for _, v := range kr.Versions() {
			if slices.ContainsFunc(known, func(k tresor.KEKVersion) bool { return k.Version == v }) {
				continue
			}
			check, err := kr.Check(v)
			if err != nil {
				return err
			}
			if err := tx.InsertKEKVersion(ctx, tresor.KEKVersion{Version: v, Check: check, CreatedAt: tresor.Truncate(time.Now())}); err != nil {
				return err
			}
		}
		return nil
	})
}
