// The previews dashboard: jobs with live progress bars, workers, start / cancel, schedules, GPUs.
// Plain JavaScript over the page's own API (the session cookie) and /previews/ws/jobs (live events).
(function () {
  "use strict";
  var body = document.body;
  var base = body.dataset.base;
  var csrf = body.dataset.csrf;
  var jobs = {};      // id -> job summary (from /api/jobs, then updated by events)
  var current = {};   // job id -> title of the item being made
  var workers = {};   // worker_id -> {type, status, current_item, job_id}
  var reloadTimer = null;
  var libraryNames = {};  // library id -> name (from /api/libraries)

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function showError(message) {
    var box = $("error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  function api(path, options) {
    options = options || {};
    var init = {method: options.method || "GET", credentials: "same-origin",
                headers: {"Accept": "application/json", "X-CSRFToken": csrf}};
    if (options.json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.json);
    }
    return fetch(base + "/api" + path, init).then(function (response) {
      if (response.status === 401) { window.location.href = base + "/login"; throw new Error("Signed out."); }
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.error || ("HTTP " + response.status));
        return data;
      });
    });
  }

  // --- jobs ------------------------------------------------------------------------------------
  function active(job) { return job.status === "pending" || job.status === "running"; }

  function renderJobs() {
    var box = $("jobs");
    var list = Object.keys(jobs).map(function (k) { return jobs[k]; });
    list.sort(function (a, b) {
      if (active(a) !== active(b)) return active(a) ? -1 : 1;
      return (b.created_at || "").localeCompare(a.created_at || "");
    });
    box.textContent = "";
    if (!list.length) { box.appendChild(el("p", {"class": "muted"}, "No jobs yet.")); return; }
    list.slice(0, 25).forEach(function (job) {
      var row = el("div", {"class": "job status-" + job.status, "id": "job-" + job.id, "data-status": job.status});
      row.appendChild(el("div", {"class": "title"}, job.library_name || ("Library " + job.library_id)));
      var right = el("div");
      if (active(job)) {
        var cancel = el("button", {"type": "button", "class": "secondary cancel", "data-job": job.id}, "Cancel");
        cancel.addEventListener("click", function () { cancelJob(job.id, cancel); });
        right.appendChild(cancel);
      }
      row.appendChild(right);
      var done = (job.completed_items || 0) + (job.failed_items || 0) + (job.skipped_items || 0);
      row.appendChild(el("div", {"class": "meta"}, job.status + " · " + done + " / " + (job.total_items || 0) +
        " items" + (job.failed_items ? " · " + job.failed_items + " failed" : "") +
        (job.skipped_items ? " · " + job.skipped_items + " skipped" : "")));
      var bar = el("div", {"class": "bar", "role": "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
                           "aria-valuenow": String(job.progress || 0)});
      var fill = el("div", {"class": "fill"});
      fill.style.width = (job.progress || 0) + "%";
      bar.appendChild(fill);
      bar.appendChild(el("span", {"class": "label progress"}, (job.progress || 0) + " %"));
      row.appendChild(bar);
      if (active(job) && current[job.id]) row.appendChild(el("div", {"class": "current"}, "Now: " + current[job.id]));
      if (job.error) row.appendChild(el("div", {"class": "error-text"}, job.error));
      box.appendChild(row);
    });
  }

  function loadJobs() {
    return api("/jobs?limit=25").then(function (data) {
      jobs = {};
      data.jobs.forEach(function (job) { jobs[job.id] = job; });
      renderJobs();
    }).catch(function (e) { showError("Jobs: " + e.message); });
  }

  function reloadSoon() {  // several events at once: one reload
    if (reloadTimer) return;
    reloadTimer = setTimeout(function () { reloadTimer = null; loadJobs(); loadSchedules(); }, 300);
  }

  function cancelJob(id, button) {
    button.disabled = true;
    api("/jobs/" + encodeURIComponent(id) + "/cancel", {method: "POST"}).then(function () {
      showError("");
      reloadSoon();
    }).catch(function (e) { button.disabled = false; showError("Cancel: " + e.message); });
  }

  // --- workers ---------------------------------------------------------------------------------
  function renderWorkers() {
    var box = $("workers");
    box.textContent = "";
    var busy = Object.keys(workers).sort().filter(function (k) { return workers[k].status === "working"; });
    if (!busy.length) { box.appendChild(el("li", {"class": "muted"}, "No worker is busy.")); return; }
    busy.forEach(function (k) {
      var w = workers[k];
      box.appendChild(el("li", {"data-worker": k}, w.type.toUpperCase() + " " + k.split("-").pop() + ": " +
        (w.current_item || "…")));
    });
  }

  // --- live events -----------------------------------------------------------------------------
  function onEvent(message) {
    var data = message.data || {};
    if (message.event === "job_progress") {
      var job = jobs[data.job_id];
      if (!job) { reloadSoon(); return; }
      job.progress = data.progress;
      job.total_items = data.total;
      if (job.status === "pending") job.status = "running";
      var others = (job.failed_items || 0) + (job.skipped_items || 0);
      job.completed_items = Math.max(0, data.completed - others);
      if (data.current_item) current[data.job_id] = data.current_item;
      renderJobs();
    } else if (message.event === "job_complete" || message.event === "job_error") {
      delete current[data.job_id];
      Object.keys(workers).forEach(function (k) { if (workers[k].job_id === data.job_id) delete workers[k]; });
      renderWorkers();
      reloadSoon();
    } else if (message.event === "worker_update") {
      workers[data.worker_id] = data;
      if (data.status === "working" && data.job_id) current[data.job_id] = data.current_item;
      renderWorkers();
      renderJobs();
    }
  }

  var retry = 1000;
  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + base + "/ws/jobs");
    var badge = $("live");
    socket.onopen = function () {
      retry = 1000;
      badge.textContent = "live";
      badge.className = "badge on";
      workers = {};
      loadJobs();  // what happened while away; the socket sends the running jobs' state first
    };
    socket.onmessage = function (e) {
      try { onEvent(JSON.parse(e.data)); } catch (err) { /* a frame that is not ours */ }
    };
    socket.onclose = function (e) {
      badge.textContent = "offline";
      badge.className = "badge off";
      if (e.code === 4401) { window.location.href = base + "/login"; return; }
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }

  // --- start a job, libraries, schedules, GPUs -------------------------------------------------
  function loadLibraries() {
    api("/libraries").then(function (data) {
      var select = $("library");
      select.textContent = "";
      if (!data.libraries.length) select.appendChild(el("option", {"value": ""}, "No movie or show library"));
      data.libraries.forEach(function (lib) { libraryNames[lib.id] = lib.name; });
      loadSchedules();
      data.libraries.forEach(function (lib) {
        var label = lib.name + " (" + lib.item_count + ")";
        var option = el("option", {"value": lib.id, "data-name": lib.name}, label);
        select.appendChild(option);
      });
    }).catch(function (e) {
      var select = $("library");
      select.textContent = "";
      select.appendChild(el("option", {"value": ""}, "Libraries unavailable"));
      showError("Libraries: " + e.message);
    });
  }

  $("start-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var select = $("library");
    var option = select.options[select.selectedIndex];
    if (!option || !option.value) return;
    var button = $("start-button");
    button.disabled = true;
    api("/jobs", {method: "POST", json: {library_id: option.value, library_name: option.dataset.name || ""}})
      .then(function (data) {
        showError("");
        jobs[data.id] = {id: data.id, status: data.status, library_id: option.value,
                         library_name: option.dataset.name || "", progress: 0, total_items: 0,
                         completed_items: 0, failed_items: 0, skipped_items: 0,
                         created_at: new Date().toISOString()};
        renderJobs();
        loadJobs();
      })
      .catch(function (err) { showError("Start: " + err.message); })
      .then(function () { button.disabled = false; });
  });

  function loadSchedules() {
    api("/schedules").then(function (data) {
      var tbody = $("schedules").querySelector("tbody");
      tbody.textContent = "";
      if (!data.schedules.length) {
        var empty = el("tr");
        empty.appendChild(el("td", {"colspan": "5", "class": "muted"}, "No schedules."));
        tbody.appendChild(empty);
      }
      data.schedules.forEach(function (s) {
        var tr = el("tr", {"data-schedule": s.id});
        tr.appendChild(el("td", {}, s.name));
        tr.appendChild(el("td", {}, libraryNames[s.library_id] || s.library_id));
        tr.appendChild(el("td", {}, s.schedule_type === "cron" ? "cron " + s.cron_expression :
          "every " + s.interval_minutes + " min"));
        tr.appendChild(el("td", {"class": "next-run"}, s.enabled ? (s.next_run || "—").replace("T", " ")
          .replace("Z", "") : "disabled"));
        var cell = el("td");
        var run = el("button", {"type": "button"}, "Run now");
        run.addEventListener("click", function () {
          run.disabled = true;
          api("/schedules/" + encodeURIComponent(s.id) + "/run", {method: "POST"})
            .then(function () { showError(""); reloadSoon(); })
            .catch(function (err) { showError("Run: " + err.message); })
            .then(function () { run.disabled = false; });
        });
        cell.appendChild(run);
        tr.appendChild(cell);
        tbody.appendChild(tr);
      });
    }).catch(function (e) { showError("Schedules: " + e.message); });
  }

  function loadStatus() {
    api("/system/status").then(function (data) {
      var box = $("gpus");
      box.textContent = "";
      if (!data.gpus.length) box.appendChild(el("li", {"class": "muted"}, "No GPU found: thumbnails are made on the CPU (" +
        data.workers.cpu + " at once)."));
      data.gpus.forEach(function (g) {
        box.appendChild(el("li", {}, g.type.toUpperCase() + " " + g.name + " (" + g.device + "): " +
          (g.usable ? "usable" : "not usable: " + g.reason)));
      });
    }).catch(function (e) { showError("Status: " + e.message); });
  }

  loadJobs();
  loadLibraries();
  loadSchedules();
  loadStatus();
  connect();
})();
