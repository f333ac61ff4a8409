// stagefront console: live traffic over server-sent events. Every element
// with data-live="NAME" shows the sample's text[NAME]; the stream's URL is
// the data-live-src of its section. No other script runs on the pages.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-live-src]").forEach(function (section) {
    var state = section.querySelector("[data-live-state]");
    var source = new EventSource(section.getAttribute("data-live-src"));
    source.onmessage = function (ev) {
      var sample = JSON.parse(ev.data);
      Object.keys(sample.text || {}).forEach(function (name) {
        section.querySelectorAll('[data-live="' + name + '"]').forEach(function (el) {
          el.textContent = sample.text[name];
        });
      });
      if (state) { state.textContent = ""; }
    };
    source.addEventListener("expired", function () {
      source.close();
      window.location.assign("/console/signin?next=" + encodeURIComponent(window.location.pathname));
    });
    source.onerror = function () {
      if (state) { state.textContent = "(reconnecting…)"; }
    };
  });
});
