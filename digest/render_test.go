package digest

import (
	"bytes"
	"image/png"
	"regexp"
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	f := newFixture(t)
	d := Build(f.in)
	r, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Images) != 2 {
		t.Fatalf("%d images, want one per draft (2)", len(r.Images))
	}
	// Every image is a PNG of the chart size at 2×, referred to by cid: in
	// the HTML and embedded as data: in the standalone HTML.
	cids := regexp.MustCompile(`src="cid:([^"]+)"`).FindAllStringSubmatch(r.HTML, -1)
	if len(cids) != len(r.Images) {
		t.Fatalf("HTML has %d cid: images, want %d", len(cids), len(r.Images))
	}
	for i, img := range r.Images {
		if cids[i][1] != img.ContentID {
			t.Errorf("image %d: HTML refers to cid:%s, image has Content-ID %s", i, cids[i][1], img.ContentID)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(img.PNG))
		if err != nil {
			t.Fatalf("image %d: %v", i, err)
		}
		if cfg.Width != 2*ChartWidth || cfg.Height != 2*ChartHeight {
			t.Errorf("image %d is %d×%d, want %d×%d", i, cfg.Width, cfg.Height, 2*ChartWidth, 2*ChartHeight)
		}
		if len(img.PNG) > 120_000 {
			t.Errorf("image %d is %d bytes: too big for a mail", i, len(img.PNG))
		}
	}
	if strings.Contains(r.StandaloneHTML, "cid:") || strings.Count(r.StandaloneHTML, `src="data:image/png;base64,`) != 2 {
		t.Error("standalone HTML does not embed the images as data: URIs")
	}
	for _, s := range []string{
		"Drafts to review", "Moved, not credited to you", "Regressions after your PRs",
		"The week in numbers", "Accepted this review period", "impact drafts accept e5f6a7b8",
		"max-width:600px", "1 draft from earlier weeks still waits",
	} {
		if !strings.Contains(r.HTML, s) {
			t.Errorf("HTML lacks %q", s)
		}
	}
	if strings.Contains(strings.ToLower(r.HTML), "<script") || strings.Contains(r.HTML, "<link") || strings.Contains(r.HTML, "<style") {
		t.Error("HTML has scripts or external/global styles; mail clients want inline CSS")
	}
	for _, s := range []string{"DRAFTS TO REVIEW", "REGRESSIONS AFTER YOUR PRS (not wins)", "MOVED, NOT CREDITED TO YOU",
		"accept:  impact drafts accept d1a2b3c4", "reject:  impact drafts reject d1a2b3c4", "Pages to you", "H2 2026"} {
		if !strings.Contains(r.Text, s) {
			t.Errorf("text lacks %q", s)
		}
	}
}

func TestChartWeekly(t *testing.T) {
	f := newFixture(t)
	d := Build(f.in)
	c := *d.Drafts[0].Chart
	c.Weekly = true
	if _, err := c.PNG(); err != nil {
		t.Fatal(err)
	}
	var nilChart *Chart
	if _, err := nilChart.PNG(); err == nil {
		t.Error("a nil chart drew")
	}
}
