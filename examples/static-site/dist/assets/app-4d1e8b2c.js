document.getElementById("route").textContent = `You are at ${location.pathname} (served by the SPA fallback if this path is not a file).`;
