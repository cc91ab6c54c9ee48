// Draws the site's stored Altair charts with the vega bundle shipped beside it (no CDN).
// Each chart is <div class="lts-chart"></div><script type="application/json" class="lts-chart-spec">{spec, opt}</script>.
// The page's state is left on <body data-charts="ok|failed" data-charts-rendered="N" data-charts-expected="N">
// for the browser test.
(function () {
  function draw() {
    var specs = Array.prototype.slice.call(document.querySelectorAll('script.lts-chart-spec'));
    var body = document.body, done = 0, failed = 0;
    body.dataset.chartsExpected = String(specs.length);
    if (!specs.length) { body.dataset.charts = 'ok'; return; }
    var jobs = specs.map(function (s) {
      var div = s.previousElementSibling, cfg;
      try { cfg = JSON.parse(s.textContent); } catch (e) { failed++; console.error('lts chart: bad JSON', e); return Promise.resolve(); }
      var opt = Object.assign({}, cfg.opt || {}, {renderer: 'svg', actions: false});
      return window.vegaEmbed(div, cfg.spec, opt)
        .then(function () { done++; })
        .catch(function (err) { failed++; div.textContent = 'chart failed: ' + err; console.error('lts chart:', err); });
    });
    Promise.all(jobs).then(function () {
      body.dataset.chartsRendered = String(done);
      body.dataset.charts = failed ? 'failed' : 'ok';
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', draw); else draw();
})();
