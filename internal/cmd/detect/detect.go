// Package detect implements `impact detect`: the shift detector on any series.
package detect

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/impact-dev/impact/drafter/changepoint"
	"github.com/impact-dev/impact/internal/cmdutil"
	"github.com/impact-dev/impact/internal/render"
	"github.com/impact-dev/impact/internal/seriesio"
)

// Options of `impact detect`.
type Options struct {
	File   string
	Format string // csv | tcpd | "" (by extension)
}

// ChangePoint is one detected shift in the JSON output.
type ChangePoint struct {
	Index  int     `json:"index"`
	Time   string  `json:"time"`
	Before float64 `json:"before"`
	After  float64 `json:"after"`
	PValue float64 `json:"p_value"`
}

// Output is what detect prints.
type Output struct {
	ChangePoints []ChangePoint `json:"change_points"`
}

// NewCmd returns `impact detect`.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "detect [--format csv|tcpd] FILE",
		Short: "Find level shifts in any series (CSV time,value or TCPD JSON) and print them as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.File = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return Run(cmd.Context(), f, o)
		},
	}
	cmd.Flags().StringVar(&o.Format, "format", "", "csv or tcpd (default: by the file's extension, .json = tcpd)")
	return cmd
}

// Run reads the file, detects and prints.
func Run(ctx context.Context, f *cmdutil.Factory, o *Options) error {
	format := o.Format
	if format == "" {
		if strings.EqualFold(filepath.Ext(o.File), ".json") {
			format = "tcpd"
		} else {
			format = "csv"
		}
	}
	if format != "csv" && format != "tcpd" {
		return cmdutil.UsageError("--format %q: want csv or tcpd", o.Format)
	}
	fh, err := os.Open(o.File)
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	defer fh.Close()
	var labels []string
	var values []float64
	if format == "csv" {
		ts, vs, err := seriesio.ReadCSV(fh)
		if err != nil {
			return fmt.Errorf("detect: %s: %w", o.File, err)
		}
		values = vs
		labels = make([]string, len(ts))
		for i, t := range ts {
			labels[i] = t.UTC().Format(time.RFC3339)
		}
	} else {
		s, err := seriesio.ReadTCPD(fh)
		if err != nil {
			return fmt.Errorf("detect: %s: %w", o.File, err)
		}
		labels, values = s.Times, s.Values
	}
	out := Output{ChangePoints: []ChangePoint{}}
	for _, p := range changepoint.Detect(values, changepoint.Options{}) {
		cp := ChangePoint{Index: p.Index, Before: finite(p.Before), After: finite(p.After), PValue: finite(p.PValue)}
		if p.Index >= 0 && p.Index < len(labels) {
			cp.Time = labels[p.Index]
		}
		out.ChangePoints = append(out.ChangePoints, cp)
	}
	return render.JSON(f.IO.Out, out)
}

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
