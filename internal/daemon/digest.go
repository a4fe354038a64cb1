package daemon

import (
	"context"
	"time"

	"github.com/robfig/cron/v3"
)

// digestLoop sends the digest on digest.schedule (cron, in me.timezone)
// while a Digester is set and digest.to names someone; a config reload
// reschedules it.
func (d *Daemon) digestLoop(ctx context.Context) error {
	for {
		c := d.startDigestCron(ctx)
		select {
		case <-ctx.Done():
			if c != nil {
				// Wait (a little) for a send in progress.
				stopped := c.Stop()
				select {
				case <-stopped.Done():
				case <-time.After(3 * time.Second):
				}
			}
			return nil
		case <-d.digestReload:
			if c != nil {
				c.Stop()
			}
		}
	}
}

func (d *Daemon) startDigestCron(ctx context.Context) *cron.Cron {
	cfg := d.config()
	switch {
	case d.o.Digester == nil:
		// HOOK(digest): set daemon.Options.Digester (see internal/cmd/serve)
		// once package digest can send a week's digest.
		d.log.Debug("digest: no sender wired in; the schedule is off")
		return nil
	case len(cfg.Digest.To) == 0:
		d.log.Info("digest: digest.to is empty; no digests scheduled")
		return nil
	}
	loc := cfg.Location()
	c := cron.New(cron.WithLocation(loc))
	id, err := c.AddFunc(cfg.Digest.Schedule, func() { d.sendDigest(ctx) })
	if err != nil {
		d.log.Error("digest: bad schedule; no digests scheduled", "schedule", cfg.Digest.Schedule, "err", err)
		return nil
	}
	c.Start()
	d.log.Info("digest scheduled", "schedule", cfg.Digest.Schedule, "timezone", loc.String(), "next", c.Entry(id).Schedule.Next(time.Now().In(loc)))
	return c
}

func (d *Daemon) sendDigest(ctx context.Context) {
	cfg := d.config()
	start := time.Now()
	err := d.o.Digester.SendWeek(ctx, cfg, d.st, start)
	if err != nil {
		d.m.digests.WithLabelValues("failure").Inc()
		d.log.Error("digest: sending failed", "to", len(cfg.Digest.To), "err", err)
		return
	}
	d.m.digests.WithLabelValues("success").Inc()
	d.log.Info("digest sent", "recipients", len(cfg.Digest.To), "duration", time.Since(start).Round(time.Millisecond))
}
