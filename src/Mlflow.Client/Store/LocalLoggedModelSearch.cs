using System.Globalization;
using Mlflow.Client.FileStore;

namespace Mlflow.Client.Store;

/// <summary>
/// <see cref="MlflowClient.SearchLoggedModelsAsync"/> on a local store: the experiments' logged models, newest first (the
/// server's default order), in pages whose token is the offset. The filter language, dataset scoping and other orders
/// are the server's and are refused here rather than ignored.
/// </summary>
internal static class LocalLoggedModelSearch
{
    private const int DefaultPageSize = 100;

    public static Page<LoggedModel> Page(LocalFileStore store, IReadOnlyList<string> experimentIds, LoggedModelSearchOptions options, string? pageToken)
    {
        if (!string.IsNullOrEmpty(options.Filter) || options.Datasets is { Count: > 0 } || options.OrderBy is { Count: > 0 })
        {
            throw new NotSupportedException(
                $"SearchLoggedModels on the local store {store.RootDirectory} lists models without a filter, datasets or order_by; " +
                "run the search on a tracking server, or filter the models this call returns.");
        }

        var offset = 0;
        if (!string.IsNullOrEmpty(pageToken) && (!int.TryParse(pageToken, NumberStyles.None, CultureInfo.InvariantCulture, out offset) || offset < 0))
        {
            throw new ArgumentException($"'{pageToken}' is not a page token of this local store's search.", nameof(pageToken));
        }

        var size = options.MaxResults is int n && n > 0 ? n : DefaultPageSize;
        var all = experimentIds.Distinct(StringComparer.Ordinal)
            .SelectMany(store.ListLoggedModels)
            .OrderByDescending(x => x.Info.CreationTimestampMs ?? 0)
            .ThenBy(x => x.Info.ModelId, StringComparer.Ordinal)
            .ToList();
        var page = all.Skip(offset).Take(size).ToList();
        var next = offset + page.Count < all.Count ? (offset + page.Count).ToString(CultureInfo.InvariantCulture) : null;
        return new Page<LoggedModel>(page, next);
    }
}
