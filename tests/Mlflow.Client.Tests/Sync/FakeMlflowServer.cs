using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Mlflow.Client.Tests.Sync;

/// <summary>
/// A small stateful MLflow tracking server on 127.0.0.1 (HttpListener) holding experiments, runs, params, tags, metric
/// points and proxied artifacts. It behaves like a file-backed server (<see cref="Deduplicating"/> false: every point is
/// appended, duplicates included) or like a SQL one (true: identical points kept once, a batch re-sending a stored NaN
/// point refused whole with 400 BAD_REQUEST). Faults can be injected per request: apply and then cut the connection
/// (answer lost), or fail before applying.
/// </summary>
internal sealed partial class FakeMlflowServer : IDisposable
{
    internal const string FaultHeader = "X-Fake-Fault";
    private const string Api = "/api/2.0/mlflow/";
    private const string ArtifactsApi = "/api/2.0/mlflow-artifacts/artifacts/";
    private HttpListener _listener = new();
    private readonly object _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly List<Fault> _faults = [];
    private readonly ManualResetEventSlim _released = new(true);
    private int _nextExperiment = 1;
    private bool _paused;
    private volatile string? _hung;
    private int _hungRequests;
    private int _faultsHit;

    public FakeMlflowServer(bool deduplicating = false)
    {
        Deduplicating = deduplicating;
        // A free port is found by probing; another listener of this process may still hold the one the probe
        // returned, so a bounded number of fresh ports is tried.
        for (var attempt = 1; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = $"http://127.0.0.1:{port}";
            _listener.Prefixes.Clear();
            _listener.Prefixes.Add(Url + "/");
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 20)
            {
                _listener.Close();
                _listener = new HttpListener();
            }
        }

        Experiments["0"] = new FakeExperiment("0", "Default");
        _loop = Task.Run(LoopAsync);
    }

    public string Url { get; }

    public bool Deduplicating { get; }

    /// <summary>Artifact root scheme given to new runs: proxied by default.</summary>
    public bool ProxiedArtifacts { get; set; } = true;

    public Dictionary<string, FakeExperiment> Experiments { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, FakeRun> Runs { get; } = new(StringComparer.Ordinal);

    /// <summary>"METHOD endpoint" of every request received, in order.</summary>
    public List<string> Requests { get; } = [];

    /// <summary>Called under the server lock for every request after it was applied and before it is answered.</summary>
    public Action<string>? OnApplied { get; set; }

    public int Count(string endpoint) { lock (_gate) { return Requests.Count(r => r.EndsWith(" " + endpoint, StringComparison.Ordinal)); } }

    /// <summary>Requests that change state.</summary>
    public int Writes { get { lock (_gate) { return Requests.Count(r => r.StartsWith("POST ", StringComparison.Ordinal) && !r.EndsWith("runs/search", StringComparison.Ordinal) || r.StartsWith("PUT ", StringComparison.Ordinal)); } } }

    /// <summary>The <paramref name="nth"/> (1-based) request to <paramref name="endpoint"/> is applied, then its connection is cut.</summary>
    public void DropAnswerOf(string endpoint, int nth = 1) { lock (_gate) { _faults.Add(new Fault(endpoint, nth, Apply: true, Status: 0)); } }

    /// <summary>The <paramref name="nth"/> request to <paramref name="endpoint"/> is applied, then answered with <paramref name="status"/> (a gateway timeout, say).</summary>
    public void ApplyThenFail(string endpoint, int nth, int status) { lock (_gate) { _faults.Add(new Fault(endpoint, nth, Apply: true, Status: status)); } }

    /// <summary>Forgets every planned fault not played yet: the server answers normally from now on.</summary>
    public void ClearFaults() { lock (_gate) { _faults.Clear(); } }

    /// <summary>The <paramref name="nth"/> request to <paramref name="endpoint"/> is NOT applied and its connection is cut (the client cannot tell the two apart).</summary>
    public void DropWithoutApplying(string endpoint, int nth = 1) { lock (_gate) { _faults.Add(new Fault(endpoint, nth, Apply: false, Status: 0)); } }

    /// <summary>
    /// From now on requests to <paramref name="endpoint"/> ("*": all) are accepted but never answered until
    /// <see cref="Release"/> (at most 30 s), and then dropped without being applied: a hung server or proxy. The client
    /// needs <see cref="LostAnswerHandler"/> in its handler chain to see the drop.
    /// </summary>
    public void Hang(string endpoint = "*")
    {
        _released.Reset();
        _hung = endpoint;
    }

    /// <summary>Ends <see cref="Hang"/>: held requests are dropped unapplied, new ones are served.</summary>
    public void Release()
    {
        _hung = null;
        _released.Set();
    }

    /// <summary>Requests a planned fault was played on.</summary>
    public int FaultsHit => Volatile.Read(ref _faultsHit);

    /// <summary>Requests that arrived while hung (never applied).</summary>
    public int HungRequests => Volatile.Read(ref _hungRequests);

    /// <summary>
    /// The <paramref name="nth"/> request to <paramref name="endpoint"/> gets <paramref name="status"/> with
    /// <paramref name="body"/> (and a <c>Retry-After</c> header when given), after <paramref name="delay"/>;
    /// applied first when <paramref name="apply"/> (the answer then hides what happened), else not applied.
    /// </summary>
    public void Answer(string endpoint, int nth, int status, bool apply = false, string body = "<html>server error</html>", string? retryAfter = null, TimeSpan delay = default)
    {
        lock (_gate)
        {
            _faults.Add(new Fault(endpoint, nth, apply, status) { Direct = true, Body = body, RetryAfter = retryAfter, Delay = delay });
        }
    }

    /// <summary>Stops accepting connections (clients get "connection refused"); the state is kept.</summary>
    public void StopListening()
    {
        Volatile.Write(ref _paused, true);
        // Abort, not Stop: a server that goes down also drops the connections it had accepted (Stop would leave them
        // open and unserved, so a client reusing one would wait for its timeout instead of seeing the outage).
        _listener.Abort();
    }

    /// <summary>Accepts connections again on the same port, with the same state (a restarted server with a persistent backend).</summary>
    public void StartListening()
    {
        var fresh = new HttpListener();
        fresh.Prefixes.Add(Url + "/");
        fresh.Start();
        Volatile.Write(ref _listener, fresh);
        Volatile.Write(ref _paused, false);
    }

    public FakeRun SingleRun() { lock (_gate) { return Runs.Values.Single(); } }

    public FakeRun RunBySource(string localRunId)
    {
        lock (_gate)
        {
            return Runs.Values.Single(r => r.Tags.TryGetValue("mlflow.dotnet.sourceRunId", out var v) && v == localRunId);
        }
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await Volatile.Read(ref _listener).GetContextAsync().WaitAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                // Stopped by StopListening (the server is "down"), or the listener it aborted failed just as StartListening
                // put a fresh one in place: take the current listener again (waiting for StartListening, bounded by disposal).
                await Task.Delay(10);
                continue;
            }

            _ = Task.Run(() => Handle(ctx));
        }
    }

    private void Handle(HttpListenerContext ctx)
    {
        var path = ctx.Request.Url!.AbsolutePath;
        var method = ctx.Request.HttpMethod;
        byte[] body;
        using (var ms = new MemoryStream())
        {
            ctx.Request.InputStream.CopyTo(ms);
            body = ms.ToArray();
        }

        if (_hung is { } hung && (hung == "*" || path.EndsWith("/" + hung, StringComparison.Ordinal)))
        {
            Interlocked.Increment(ref _hungRequests);
            _released.Wait(TimeSpan.FromSeconds(30));
            try
            {
                // HttpListener cannot cut a connection: an aborted response reaches the client as an empty 200. The
                // fault header makes LostAnswerHandler throw instead, as a dropped connection would.
                ctx.Response.AddHeader(FaultHeader, "0");
                ctx.Response.StatusCode = 200;
                ctx.Response.Close();
            }
            catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
            {
                // the client gave up first
            }

            return;
        }

        int status;
        string json;
        bool abort;
        Fault? direct = null;
        lock (_gate)
        {
            var endpoint = path.StartsWith(Api, StringComparison.Ordinal) ? path[Api.Length..] : path.StartsWith(ArtifactsApi, StringComparison.Ordinal) ? "artifacts" : path;
            Requests.Add(method + " " + endpoint);
            var nth = Requests.Count(r => r == method + " " + endpoint);
            var fault = _faults.FirstOrDefault(f => f.Endpoint == endpoint && f.Nth == nth);
            if (fault is not null)
            {
                _faultsHit++;
            }
            try
            {
                (status, json) = fault is { Apply: false } ? (200, "{}") : Dispatch(method, endpoint, path, ctx.Request.QueryString, body);
            }
            catch (FakeError e)
            {
                (status, json) = (e.Status, new JsonObject { ["error_code"] = e.Code, ["message"] = e.Message }.ToJsonString());
            }

            if (fault is not { Apply: false })
            {
                OnApplied?.Invoke(endpoint);
            }

            abort = fault is { Status: 0 };
            if (fault is { Direct: true })
            {
                direct = fault;
                (status, json) = (fault.Status, fault.Body ?? "");
            }
            else if (fault is { Status: > 0 })
            {
                (status, json) = (fault.Status, "<html>gateway timeout</html>");
            }
        }

        if (direct is not null)
        {
            if (direct.Delay > TimeSpan.Zero)
            {
                _stop.Token.WaitHandle.WaitOne(direct.Delay); // a slow answer, bounded by disposal
            }

            if (direct.RetryAfter is { } after)
            {
                ctx.Response.AddHeader("Retry-After", after);
            }
        }
        else if (abort)
        {
            ctx.Response.AddHeader(FaultHeader, "0");
        }
        else if (status >= 500 && json.StartsWith("<html>", StringComparison.Ordinal))
        {
            // applied, then a gateway error instead of the answer
            ctx.Response.AddHeader(FaultHeader, status.ToString(CultureInfo.InvariantCulture));
            status = 200;
        }

        var bytes = Encoding.UTF8.GetBytes(json);
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        ctx.Response.ContentLength64 = bytes.Length;
        try
        {
            ctx.Response.OutputStream.Write(bytes);
            ctx.Response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // the client went away (cancelled): nothing to answer
        }
    }

    private (int, string) Dispatch(string method, string endpoint, string path, System.Collections.Specialized.NameValueCollection query, byte[] body)
    {
        var req = body.Length > 0 && method != "PUT" ? JsonNode.Parse(body)!.AsObject() : new JsonObject();
        switch (method + " " + endpoint)
        {
            case "GET experiments/get-by-name":
                var byName = Experiments.Values.FirstOrDefault(e => e.Name == query["experiment_name"])
                    ?? throw new FakeError(404, "RESOURCE_DOES_NOT_EXIST", "Could not find experiment");
                return Ok(new JsonObject { ["experiment"] = byName.ToJson() });
            case "GET experiments/get":
                return Ok(new JsonObject { ["experiment"] = Experiments[query["experiment_id"]!].ToJson() });
            case "POST experiments/create":
                var name = (string)req["name"]!;
                if (Experiments.Values.Any(e => e.Name == name))
                {
                    throw new FakeError(400, "RESOURCE_ALREADY_EXISTS", "Experiment already exists");
                }

                var id = (_nextExperiment++).ToString(CultureInfo.InvariantCulture);
                Experiments[id] = new FakeExperiment(id, name);
                return Ok(new JsonObject { ["experiment_id"] = id });
            case "POST runs/create":
                var run = new FakeRun
                {
                    RunId = Guid.NewGuid().ToString("N"),
                    ExperimentId = (string)req["experiment_id"]!,
                    RunName = (string?)req["run_name"],
                    UserId = (string?)req["user_id"],
                    StartTime = (long?)req["start_time"],
                };
                if (Experiments[run.ExperimentId].Deleted)
                {
                    throw new FakeError(400, "INVALID_PARAMETER_VALUE", "experiment is deleted");
                }

                run.ArtifactUri = ProxiedArtifacts ? $"mlflow-artifacts:/{run.ExperimentId}/{run.RunId}/artifacts" : $"s3://bucket/{run.RunId}/artifacts";
                foreach (var t in req["tags"]?.AsArray() ?? [])
                {
                    run.Tags[(string)t!["key"]!] = (string?)t["value"] ?? "";
                }

                run.RunName ??= "generated-name-1";
                run.Tags["mlflow.runName"] = run.RunName;
                Runs[run.RunId] = run;
                return Ok(new JsonObject { ["run"] = run.ToJson() });
            case "GET runs/get":
                return Ok(new JsonObject { ["run"] = GetRun(query["run_id"]).ToJson() });
            case "POST runs/search":
                var filter = (string?)req["filter"] ?? "";
                var m = FilterRegex().Match(filter);
                var experimentIds = req["experiment_ids"]!.AsArray().Select(x => (string)x!).ToHashSet();
                var hits = Runs.Values.Where(r => experimentIds.Contains(r.ExperimentId)
                    && (!m.Success || (r.Tags.TryGetValue(m.Groups[1].Value, out var v) && v == m.Groups[2].Value))).ToList();
                return Ok(hits.Count == 0 ? new JsonObject() : new JsonObject { ["runs"] = new JsonArray(hits.Select(r => (JsonNode)r.ToJson()).ToArray()) });
            case "POST runs/log-batch":
                LogBatch(GetRun((string?)req["run_id"]), req);
                return Ok(new JsonObject());
            case "POST runs/delete-tag":
                var untagged = GetRun((string?)req["run_id"]);
                var tagKey = (string)req["key"]!;
                if (!untagged.Tags.Remove(tagKey))
                {
                    throw new FakeError(404, "RESOURCE_DOES_NOT_EXIST", $"No tag with name: {tagKey} in run with id {untagged.RunId}");
                }

                return Ok(new JsonObject());
            case "GET metrics/get-history":
                var target = GetRun(query["run_id"]);
                var points = target.Metrics.GetValueOrDefault(query["metric_key"]!) ?? [];
                return Ok(points.Count == 0 ? new JsonObject() : new JsonObject
                {
                    ["metrics"] = new JsonArray(points.Select(p => (JsonNode)new JsonObject
                    {
                        ["key"] = query["metric_key"],
                        ["value"] = WireValue(p.Value),
                        ["timestamp"] = p.Timestamp,
                        ["step"] = p.Step,
                    }).ToArray()),
                });
            case "POST runs/update":
                var updated = GetRun((string?)req["run_id"]);
                updated.Status = (string?)req["status"] ?? updated.Status;
                updated.EndTime = (long?)req["end_time"] ?? updated.EndTime;
                return Ok(new JsonObject { ["run_info"] = updated.ToJson()["info"]!.DeepClone() });
            case "POST runs/log-inputs":
                var withInputs = GetRun((string?)req["run_id"]);
                foreach (var d in req["datasets"]!.AsArray())
                {
                    var key = (string)d!["dataset"]!["name"]! + "/" + (string)d["dataset"]!["digest"]!;
                    if (!withInputs.Inputs.Contains(key))
                    {
                        withInputs.Inputs.Add(key);
                    }
                }

                return Ok(new JsonObject());
            case "POST runs/delete":
                // Deleting a deleted run answers 200 (both backends).
                GetRun((string?)req["run_id"]).Deleted = true;
                return Ok(new JsonObject());
            case "POST experiments/delete":
            case "POST experiments/restore":
                // As the SQL store: only an active experiment can be deleted, only a deleted one restored (else 404).
                var deleting = endpoint == "experiments/delete";
                if (!Experiments.TryGetValue((string)req["experiment_id"]!, out var experiment) || experiment.Deleted != !deleting)
                {
                    throw new FakeError(404, "RESOURCE_DOES_NOT_EXIST", "No experiment in the required lifecycle stage");
                }

                experiment.Deleted = deleting;
                return Ok(new JsonObject());
            case "PUT artifacts":
                var rel = Uri.UnescapeDataString(path[ArtifactsApi.Length..]);
                var parts = rel.Split('/', 4);
                Artifacts[parts[1] + "/" + parts[3]] = body;
                return Ok(new JsonObject());
            default:
                throw new FakeError(404, "ENDPOINT_NOT_FOUND", method + " " + endpoint);
        }
    }

    /// <summary>Artifact bytes by "server run id/relative path".</summary>
    public Dictionary<string, byte[]> Artifacts { get; } = new(StringComparer.Ordinal);

    private void LogBatch(FakeRun run, JsonObject req)
    {
        if (run.Deleted)
        {
            throw new FakeError(400, "INVALID_PARAMETER_VALUE", "The run must be in the 'active' state.");
        }

        var paramKeys = new HashSet<string>();
        foreach (var p in req["params"]?.AsArray() ?? [])
        {
            var key = (string)p!["key"]!;
            if (!paramKeys.Add(key))
            {
                throw new FakeError(400, "INVALID_PARAMETER_VALUE", "Duplicate parameter keys");
            }

            if (run.Params.TryGetValue(key, out var old) && old != (string?)p["value"])
            {
                throw new FakeError(400, "INVALID_PARAMETER_VALUE", "Changing param values is not allowed");
            }
        }

        foreach (var p in req["params"]?.AsArray() ?? [])
        {
            run.Params[(string)p!["key"]!] = (string?)p["value"] ?? "";
        }

        var incoming = (req["metrics"]?.AsArray() ?? []).Select(x => (Key: (string)x!["key"]!, Point: new FakePoint(ParseValue(x["value"]!), (long)x["timestamp"]!, (long?)x["step"] ?? 0))).ToList();
        if (Deduplicating)
        {
            // As a SQL store: in-batch duplicates collapse except NaN; any NaN already stored (or twice in the batch) fails the whole metric write.
            var staged = new List<(string Key, FakePoint Point)>();
            foreach (var (key, point) in incoming)
            {
                var existing = run.Metrics.GetValueOrDefault(key) ?? [];
                var clash = existing.Concat(staged.Where(s => s.Key == key).Select(s => s.Point)).Any(e => e.SameAs(point));
                if (clash && double.IsNaN(point.Value))
                {
                    throw new FakeError(400, "BAD_REQUEST", "(sqlite3.IntegrityError) UNIQUE constraint failed: metrics");
                }

                if (!clash)
                {
                    staged.Add((key, point));
                }
            }

            incoming = staged;
        }

        foreach (var (key, point) in incoming)
        {
            if (!run.Metrics.TryGetValue(key, out var list))
            {
                run.Metrics[key] = list = [];
            }

            list.Add(Deduplicating && double.IsInfinity(point.Value) ? point with { Value = point.Value > 0 ? double.MaxValue : double.MinValue } : point);
        }

        foreach (var t in req["tags"]?.AsArray() ?? [])
        {
            run.Tags[(string)t!["key"]!] = (string?)t["value"] ?? "";
        }
    }

    private FakeRun GetRun(string? runId)
        => runId is not null && Runs.TryGetValue(runId, out var run) ? run : throw new FakeError(404, "RESOURCE_DOES_NOT_EXIST", "Run not found");

    private static double ParseValue(JsonNode node)
        => node.GetValueKind() == System.Text.Json.JsonValueKind.String
            ? (string)node! switch { "NaN" => double.NaN, "Infinity" => double.PositiveInfinity, "-Infinity" => double.NegativeInfinity, var s => double.Parse(s, CultureInfo.InvariantCulture) }
            : (double)node;

    private static JsonNode WireValue(double v)
        => double.IsNaN(v) ? "NaN" : double.IsPositiveInfinity(v) ? "Infinity" : double.IsNegativeInfinity(v) ? "-Infinity" : JsonValue.Create(v);

    private static (int, string) Ok(JsonObject o) => (200, o.ToJsonString());

    [GeneratedRegex(@"^tags\.`([^`]+)`\s*=\s*'([^']*)'$")]
    private static partial Regex FilterRegex();

    public void Dispose()
    {
        _stop.Cancel();
        ((IDisposable)Volatile.Read(ref _listener)).Dispose(); // also when already aborted by StopListening
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        _stop.Dispose();
        _released.Set();
        _released.Dispose();
    }

    private sealed record Fault(string Endpoint, int Nth, bool Apply, int Status)
    {
        /// <summary>Sent as it is (status, body, headers) instead of through <see cref="LostAnswerHandler"/>.</summary>
        public bool Direct { get; init; }

        public string? Body { get; init; }

        public string? RetryAfter { get; init; }

        public TimeSpan Delay { get; init; }
    }

    private sealed class FakeError(int status, string code, string message) : Exception(message)
    {
        public int Status { get; } = status;
        public string Code { get; } = code;
    }
}

internal sealed record FakePoint(double Value, long Timestamp, long Step)
{
    public bool SameAs(FakePoint o) => Timestamp == o.Timestamp && Step == o.Step && (Value.Equals(o.Value) || (double.IsNaN(Value) && double.IsNaN(o.Value)));
}

internal sealed class FakeExperiment(string id, string name)
{
    public string Id { get; } = id;
    public string Name { get; } = name;
    public bool Deleted { get; set; }

    public JsonObject ToJson() => new()
    {
        ["experiment_id"] = Id,
        ["name"] = Name,
        ["lifecycle_stage"] = Deleted ? "deleted" : "active",
        ["artifact_location"] = "mlflow-artifacts:/" + Id,
    };
}

internal sealed class FakeRun
{
    public required string RunId { get; init; }
    public required string ExperimentId { get; init; }
    public string? RunName { get; set; }
    public string? UserId { get; init; }
    public long? StartTime { get; init; }
    public long? EndTime { get; set; }
    public string Status { get; set; } = "RUNNING";
    public string ArtifactUri { get; set; } = "";
    public bool Deleted { get; set; }
    public Dictionary<string, string> Params { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, List<FakePoint>> Metrics { get; } = new(StringComparer.Ordinal);
    public List<string> Inputs { get; } = [];

    public JsonObject ToJson()
    {
        var info = new JsonObject
        {
            ["run_id"] = RunId,
            ["run_uuid"] = RunId,
            ["experiment_id"] = ExperimentId,
            ["run_name"] = RunName,
            ["user_id"] = UserId,
            ["status"] = Status,
            ["start_time"] = StartTime,
            ["artifact_uri"] = ArtifactUri,
            ["lifecycle_stage"] = Deleted ? "deleted" : "active",
        };
        if (EndTime is { } end)
        {
            info["end_time"] = end;
        }

        var data = new JsonObject();
        if (Params.Count > 0)
        {
            data["params"] = new JsonArray(Params.Select(p => (JsonNode)new JsonObject { ["key"] = p.Key, ["value"] = p.Value }).ToArray());
        }

        if (Tags.Count > 0)
        {
            data["tags"] = new JsonArray(Tags.Select(p => (JsonNode)new JsonObject { ["key"] = p.Key, ["value"] = p.Value }).ToArray());
        }

        return new JsonObject { ["info"] = info, ["data"] = data };
    }
}
