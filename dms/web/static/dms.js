// The pages' behaviour, kept out of the HTML so the Content-Security-Policy can forbid inline
// script (issue 16): elements opt in with data-* attributes.
(function () {
  'use strict';

  // <input type=checkbox data-select-all="SELECTOR">: ticks or clears every match.
  document.addEventListener('click', function (ev) {
    var box = ev.target.closest && ev.target.closest('input[data-select-all]');
    if (!box) return;
    document.querySelectorAll(box.dataset.selectAll).forEach(function (c) { c.checked = box.checked; });
  });

  // <form data-confirm="question">: asks before submitting.
  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) ev.preventDefault();
  });

  document.addEventListener('DOMContentLoaded', function () {
    // A scanner ends with Enter, which submits; keep the cursor in the field for the next scan.
    var scan = document.getElementById('scan-input');
    if (scan) scan.focus();

    // Highlight the searched words in the OCR text (text nodes only: no HTML injection).
    var pre = document.getElementById('ocr-text');
    if (!pre || !pre.dataset.q) return;
    var terms = pre.dataset.q.split(/\s+/).map(function (t) { return t.replace(/^["-]+|"+$/g, ''); })
      .filter(function (t) { return t && t.indexOf(':') < 0 && t !== 'OR'; });
    if (!terms.length) return;
    var esc = terms.map(function (t) { return t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); });
    var re = new RegExp('(' + esc.join('|') + ')', 'g');
    var text = pre.textContent; pre.textContent = '';
    text.split(re).forEach(function (part, i) {
      if (i % 2) { var m = document.createElement('mark'); m.textContent = part; pre.appendChild(m); }
      else pre.appendChild(document.createTextNode(part));
    });
  });
})();
