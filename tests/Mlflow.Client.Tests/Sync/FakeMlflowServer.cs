using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

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
    private readonly HttpListener _listener;
    private readonly TcpFront _front;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly List<Fault> _faults = [];
    private TaskCompletionSource _releasedTask = CompletedRelease();
    private int _nextExperiment = 1;
    private bool _paused;
    private volatile string? _hung;
    private int _hungRequests;
    private int _faultsHit;
    private int _logBatches;
    private int _maxLogBatches;

    public FakeMlflowServer(bool deduplicating = false)
    {
        _listener = new HttpListener();
        Deduplicating = deduplicating;
        // The HttpListener serves a private port for the server's whole life; clients reach it through the front on
        // Url's port, which StopListening/StartListening close and open (see TcpFront for why the listener itself is never
        // restarted). A free private port is found by probing; another listener of this process may still hold the one
        // the probe returned, so a bounded number of fresh ports is tried.
        int backendPort;
        for (var attempt = 1; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            backendPort = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            _listener.Prefixes.Clear();
            _listener.Prefixes.Add($"http://127.0.0.1:{backendPort}/");
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

        _front = new TcpFront(new IPEndPoint(IPAddress.Loopback, backendPort));
        Url = $"http://127.0.0.1:{_front.Port}";
        Experiments["0"] = new FakeExperiment("0", "Default");
        _loop = Task.Run(LoopAsync);
    }

    public string Url { get; }

    public bool Deduplicating { get; }

    /// <summary>
    /// A folder on this machine under which new runs get their artifact root as a plain path, as a server started with
    /// <c>--default-artifact-root ./mlruns</c> and no proxy gives them; <see langword="null"/>: <see cref="ProxiedArtifacts"/> decides.
    /// </summary>
    public string? LocalArtifactRoot { get; set; }

    /// <summary>Artifact root scheme given to new runs: proxied by default.</summary>
    public bool ProxiedArtifacts { get; set; } = true;

    public Dictionary<string, FakeExperiment> Experiments { get; } = new(StringComparer.Ordinal);

    /// <summary>The runs by id; also the lock every request is served under (a test reading the state locks it too).</summary>
    public Dictionary<string, FakeRun> Runs { get; } = new(StringComparer.Ordinal);

    /// <summary>"METHOD endpoint" of every request received, in order.</summary>
    public List<string> Requests { get; } = [];

    /// <summary>Called under the server lock for every request after it was applied and before it is answered.</summary>
    public Action<string>? OnApplied { get; set; }

    public int Count(string endpoint) { lock (Runs) { return Requests.Count(r => r.EndsWith(" " + endpoint, StringComparison.Ordinal)); } }

    /// <summary>Requests that change state.</summary>
    public int Writes { get { lock (Runs) { return Requests.Count(r => r.StartsWith("POST ", StringComparison.Ordinal) && !r.EndsWith("runs/search", StringComparison.Ordinal) && !r.EndsWith("logged-models/search", StringComparison.Ordinal) || r.StartsWith("PUT ", StringComparison.Ordinal) || r.StartsWith("PATCH ", StringComparison.Ordinal)); } } }

    /// <summary>The <paramref name="nth"/> (1-based) request to <paramref name="endpoint"/> is applied, then its connection is cut.</summary>
    public void DropAnswerOf(string endpoint, int nth = 1) { lock (Runs) { _faults.Add(new Fault(endpoint, nth, Apply: true, Status: 0)); } }

    /// <summary>The <paramref name="nth"/> request to <paramref name="endpoint"/> is applied, then answered with <paramref name="status"/> (a gateway timeout, say).</summary>
    public void ApplyThenFail(string endpoint, int nth, int status) { lock (Runs) { _faults.Add(new Fault(endpoint, nth, Apply: true, Status: status)); } }

    /// <summary>Forgets every planned fault not played yet: the server answers normally from now on.</summary>
    public void ClearFaults() { lock (Runs) { _faults.Clear(); } }

    /// <summary>The <paramref name="nth"/> request to <paramref name="endpoint"/> is NOT applied and its connection is cut (the client cannot tell the two apart).</summary>
    public void DropWithoutApplying(string endpoint, int nth = 1) { lock (Runs) { _faults.Add(new Fault(endpoint, nth, Apply: false, Status: 0)); } }

    /// <summary>
    /// From now on requests to <paramref name="endpoint"/> ("*": all) are accepted but never answered until
    /// <see cref="Release"/> (at most 30 s), and then dropped without being applied: a hung server or proxy. The client
    /// needs <see cref="LostAnswerHandler"/> in its handler chain to see the drop.
    /// </summary>
    public void Hang(string endpoint = "*")
    {
        Volatile.Write(ref _releasedTask, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        _hung = endpoint;
    }

    /// <summary>Ends <see cref="Hang"/>: held requests are dropped unapplied, new ones are served.</summary>
    public void Release()
    {
        _hung = null;
        Volatile.Read(ref _releasedTask).TrySetResult();
    }

    /// <summary>
    /// How long each log-batch request takes before it is applied (default none): a healthy server slower than the
    /// caller. Requests are served side by side, as by a server's workers.
    /// </summary>
    public TimeSpan LogBatchServiceTime { get; set; }

    /// <summary>The most log-batch requests the server was serving at once.</summary>
    public int MaxConcurrentLogBatches => Volatile.Read(ref _maxLogBatches);

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
        lock (Runs)
        {
            _faults.Add(new Fault(endpoint, nth, apply, status) { Direct = true, Body = body, RetryAfter = retryAfter, Delay = delay });
        }
    }

    /// <summary>Stops accepting connections (clients get "connection refused") and drops the open ones; the state is kept.</summary>
    public void StopListening()
    {
        Volatile.Write(ref _paused, true);
        // A server that goes down also drops the connections it had accepted (keeping them open and unserved would make
        // a client reusing one wait for its timeout instead of seeing the outage).
        _front.Stop();
    }

    /// <summary>Accepts connections again on the same port, with the same state (a restarted server with a persistent backend).</summary>
    public void StartListening()
    {
        _front.Start(_front.Port);
        Volatile.Write(ref _paused, false);
    }

    public FakeRun SingleRun() { lock (Runs) { return Runs.Values.Single(); } }

    public FakeRun RunBySource(string localRunId)
    {
        lock (Runs)
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
                ctx = await _listener.GetContextAsync().WaitAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                // the listener failed to take a connection: go on with the next (bounded by disposal)
                await Task.Delay(10);
                continue;
            }

            _ = Task.Run(() => HandleAsync(ctx));
        }
    }

    // Waits (a hung request, the service time) are awaited, never blocking a pool thread: tests that hang one server
    // must not starve the threads another test's server needs.
    private async Task HandleAsync(HttpListenerContext ctx)
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
            try
            {
                await Volatile.Read(ref _releasedTask).Task.WaitAsync(TimeSpan.FromSeconds(30), _stop.Token);
            }
            catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
            {
                // at most 30 s, or until disposal
            }

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

        var logBatch = path.EndsWith("/runs/log-batch", StringComparison.Ordinal);
        if (logBatch)
        {
            var now = Interlocked.Increment(ref _logBatches);
            for (var seen = Volatile.Read(ref _maxLogBatches); now > seen && Interlocked.CompareExchange(ref _maxLogBatches, now, seen) != seen; seen = Volatile.Read(ref _maxLogBatches))
            {
            }
        }

        try
        {
            if (logBatch && LogBatchServiceTime > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(LogBatchServiceTime, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    // disposed
                }
            }

            Serve(ctx, path, method, body);
        }
        finally
        {
            if (logBatch)
            {
                Interlocked.Decrement(ref _logBatches);
            }
        }
    }

    private void Serve(HttpListenerContext ctx, string path, string method, byte[] body)
    {

        int status;
        string json;
        bool abort;
        Fault? direct = null;
        lock (Runs)
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

    private static TaskCompletionSource CompletedRelease()
    {
        var done = new TaskCompletionSource();
        done.SetResult();
        return done;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _front.Dispose();
        ((IDisposable)_listener).Dispose();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        _stop.Dispose();
        Volatile.Read(ref _releasedTask).TrySetResult();
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
