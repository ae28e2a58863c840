(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");
  var tests = Array.prototype.slice.call(document.querySelectorAll("article.test"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("section.file-group"));
  var boxes = Array.prototype.slice.call(document.querySelectorAll("#controls input[name=status]"));
  var search = document.getElementById("search");
  var shown = document.getElementById("shown");
  var form = document.getElementById("controls");
  if (!form) { return; }

  function details(scope) { return Array.prototype.slice.call(scope.querySelectorAll("details")); }

  function apply() {
    var wanted = {};
    boxes.forEach(function (box) { wanted[box.value] = box.checked; });
    var query = search.value.trim().toLowerCase();
    var count = 0;
    tests.forEach(function (test) {
      var visible = wanted[test.dataset.status] === true && (!query || test.dataset.search.indexOf(query) !== -1);
      test.hidden = !visible;
      if (visible) { count += 1; }
    });
    groups.forEach(function (group) { group.hidden = !group.querySelector("article.test:not([hidden])"); });
    shown.textContent = count + " of " + tests.length + " tests shown";
  }

  function openTarget() {
    var target = location.hash && document.getElementById(location.hash.slice(1));
    if (!target) { return; }
    var own = target.querySelector(":scope > details");
    if (own) { own.open = true; }
    for (var node = target; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
      if (node.hidden) { node.hidden = false; }
    }
    target.scrollIntoView();
  }

  tests.forEach(function (test) {
    var status = test.dataset.status;
    if (status === "pass" || status === "skipped" || status === "xfail") {
      details(test).forEach(function (d) { d.open = false; });
    } else {
      test.querySelectorAll(".run[data-status=pass] > details").forEach(function (d) { d.open = false; });
    }
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  document.getElementById("expand").addEventListener("click", function () {
    tests.forEach(function (test) { if (!test.hidden) { details(test).forEach(function (d) { d.open = true; }); } });
  });
  document.getElementById("collapse").addEventListener("click", function () {
    tests.forEach(function (test) { details(test).forEach(function (d) { d.open = false; }); });
  });
  window.addEventListener("hashchange", openTarget);
  apply();
  openTarget();
})();
