/* Cascading province > regency > district > village selects that fill a village-code input.
   Progressive enhancement: without JavaScript the code input still works on its own. */
(function () {
  var levels = ["province", "regency", "district", "village"];
  document.querySelectorAll(".region-picker").forEach(function (box) {
    var url = box.getAttribute("data-url");
    var target = document.getElementById(box.getAttribute("data-target"));
    var labels = JSON.parse(box.getAttribute("data-labels"));
    var selects = {};
    function load(level, parent) {
      fetch(url + "?parent=" + encodeURIComponent(parent))
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) { selects[level].innerHTML = html; selects[level].disabled = false; });
    }
    levels.forEach(function (level, i) {
      var id = "rp-" + target.id + "-" + level;
      var label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = labels[level];
      var select = document.createElement("select");
      select.id = id;
      select.disabled = i > 0;
      box.appendChild(label);
      box.appendChild(select);
      selects[level] = select;
      select.addEventListener("change", function () {
        for (var j = i + 1; j < levels.length; j++) {
          selects[levels[j]].innerHTML = "";
          selects[levels[j]].disabled = true;
        }
        if (level === "village") { if (select.value) { target.value = select.value; } return; }
        if (select.value) { load(levels[i + 1], select.value); }
      });
    });
    load("province", "");
  });
})();
