// Live progress for a job page: poll the job's JSON and update the server-rendered markup.
(function () {
  "use strict";
  const root = document.getElementById("job");
  if (!root) return;
  const id = root.dataset.job;
  const $ = (sel) => document.getElementById(sel);
  const steps = Array.from(document.querySelectorAll("#stages .stage"));
  const skipAfter = document.getElementById("stages").dataset.skipAfter; // unchanged content stops here

  function render(job) {
    root.dataset.status = job.status;
    $("job-status").textContent = job.status;
    $("job-status").className = "status status-" + job.status;
    $("job-progress").value = job.progress;
    $("job-percent").textContent = Math.round(job.progress * 100) + "%";
    steps.forEach((li, i) => {
      const next = i + 1 < steps.length ? parseFloat(steps[i + 1].dataset.starts) : 1.0;
      const starts = parseFloat(li.dataset.starts);
      let state = "pending";
      if (job.outcome === "unchanged" && starts > parseFloat(skipAfter)) state = "skipped";
      else if (job.status === "done" || job.progress >= next) state = "done";
      else if (job.progress >= starts && job.status !== "queued") state = job.status === "failed" ? "failed" : "current";
      li.className = "stage " + state;
      li.querySelector(".state").textContent = state;
    });
    if (job.notice && job.outcome !== "unchanged") { $("job-notice").textContent = job.notice; $("job-notice").hidden = false; }
    if (job.status === "failed") {
      $("job-error").textContent = job.error || "no reason recorded";
      $("job-error-code").textContent = job.error_code || "";
      $("job-failed").hidden = false;
    }
    if (job.status === "done" && job.tool_id) {
      root.dataset.outcome = job.outcome || "";
      if (job.outcome === "unchanged") $("job-verb").textContent = "Unchanged: this content is already in the catalog as";
      $("job-tool").href = "/tools/" + encodeURIComponent(job.tool_id);
      $("job-tool").textContent = job.tool_id;
      fetch("/api/tools/" + encodeURIComponent(job.tool_id))
        .then((r) => (r.ok ? r.json() : null))
        .then((tool) => { if (tool) $("job-tool").textContent = tool.name; })
        .catch(() => {});
      $("job-graph").href = "/graph?tool=" + encodeURIComponent(job.tool_id);
      $("job-done").hidden = false;
    }
    if (job.backend) $("job-backend").textContent = job.backend;
  }

  let delay = 400;
  async function poll() {
    try {
      const response = await fetch("/api/jobs/" + encodeURIComponent(id), { headers: { Accept: "application/json" } });
      if (response.ok) {
        const job = await response.json();
        render(job);
        if (job.status === "done" || job.status === "failed") return;
        delay = 400;
      } else {
        delay = Math.min(delay * 2, 5000);
      }
    } catch (e) {
      delay = Math.min(delay * 2, 5000); // server restarting: back off, keep trying
    }
    setTimeout(poll, delay);
  }
  poll();
})();
