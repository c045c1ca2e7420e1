using System.Globalization;
using Microsoft.ML.TokenIdle.Imaging;

namespace Microsoft.ML.TokenIdle.Training.Data;

/// <summary>
/// Labelled image files as an <see cref="ImageSource"/> (<see cref="ImageFileSource"/>: listed now, decoded as
/// ML.NET's <c>LoadImages</c> does while training reads them): from a folder with one sub-folder per class,
/// or from a CSV/TSV of <c>path,label</c> rows. Class names that are all integers are used as the label
/// indices themselves (so folders <c>0</c>…<c>9</c> match a model's classes); other names are sorted
/// ordinally.
/// </summary>
public static class ImageFiles
{
    private static readonly string[] Extensions = { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp" };

    /// <summary>The images <c>folder/CLASS/*.png|jpg|jpeg|bmp|gif|webp</c>, listed (not yet decoded).</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">No images, or labels that do not fit; the message names them.</exception>
    public static ImageFileSource Folder(string folder, ImageFileOptions options) => Load(ListFolder(folder), options, folder);

    /// <summary>The image files of <c>folder/CLASS/</c> in path order, each with its sub-folder's name.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">It holds no images in class sub-folders.</exception>
    public static List<(string Path, string Label)> ListFolder(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"image folder '{folder}' does not exist");
        }

        var rows = Directory.GetDirectories(folder)
            .SelectMany(dir => Directory.EnumerateFiles(dir).Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Select(f => (f, Path.GetFileName(dir))))
            .OrderBy(r => r.f, StringComparer.Ordinal)
            .ToList();
        return rows.Count > 0 ? rows : throw new InvalidDataException($"image folder '{folder}' has no {string.Join("/", Extensions)} files in class sub-folders");
    }

    /// <summary>
    /// The images listed in a CSV (comma) or TSV (tab, by the <c>.tsv</c> extension) file of
    /// <c>path,label</c> rows; relative paths are relative to the file's folder; a first row whose label
    /// column reads <c>label</c> is a header.
    /// </summary>
    public static ImageFileSource Csv(string path, ImageFileOptions options)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"image list '{path}' does not exist", path);
        }

        var separator = Path.GetExtension(path).Equals(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',';
        var baseDir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var rows = new List<(string, string)>();
        var lines = File.ReadAllLines(path);
        for (var i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]))
            {
                continue;
            }

            var fields = lines[i].Split(separator);
            if (fields.Length != 2)
            {
                throw new InvalidDataException($"'{path}' line {i + 1}: expected 2 fields (path{separator}label), got {fields.Length}");
            }

            var (file, label) = (fields[0].Trim(), fields[1].Trim());
            if (i == 0 && label.Equals("label", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            rows.Add((Path.IsPathRooted(file) ? file : Path.Combine(baseDir, file), label));
        }

        if (rows.Count == 0)
        {
            throw new InvalidDataException($"image list '{path}' has no rows");
        }

        return Load(rows, options, path);
    }

    private static ImageFileSource Load(List<(string File, string Label)> rows, ImageFileOptions options, string source)
    {
        var format = options.Format;
        format.Validate();
        var names = rows.Select(r => r.Label).Distinct().ToList();
        var numeric = CheckLabelKinds(rows, source);
        int classes;
        Dictionary<string, int> index;
        IReadOnlyList<string> classNames;
        if (numeric)
        {
            index = names.ToDictionary(n => n, n => int.Parse(n, CultureInfo.InvariantCulture));
            classes = options.Classes ?? index.Values.Max() + 1;
            classNames = Enumerable.Range(0, classes).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        }
        else
        {
            classNames = names.Order(StringComparer.Ordinal).ToArray();
            index = classNames.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i);
            classes = options.Classes ?? classNames.Count;
        }

        var largest = index.MaxBy(kv => kv.Value);
        if (largest.Value >= classes)
        {
            throw new InvalidDataException($"'{source}': class '{largest.Key}' gets label {largest.Value}, but the model has {classes} classes");
        }

        return new ImageFileSource(rows.Select(r => r.File).ToArray(), rows.Select(r => index[r.Label]).ToArray(), classes, classNames, options);
    }

    /// <summary>
    /// True when every label is a class index, false when none is; a mix is refused, naming the odd rows, since
    /// treating all as names would silently renumber every class.
    /// </summary>
    private static bool CheckLabelKinds(List<(string File, string Label)> rows, string source)
    {
        var numeric = rows.Select(r => int.TryParse(r.Label, NumberStyles.None, CultureInfo.InvariantCulture, out _)).ToArray();
        var count = numeric.Count(n => n);
        if (count == 0 || count == rows.Count)
        {
            return count > 0;
        }

        var numericAreFewer = count * 2 < rows.Count;
        var odd = Enumerable.Range(0, rows.Count).Where(i => numeric[i] == numericAreFewer).ToList();
        var shown = string.Join(", ", odd.Take(5).Select(i => $"'{rows[i].File}' → '{rows[i].Label}'"));
        throw new InvalidDataException($"'{source}': {count} labels are class indices and {rows.Count - count} are names; {odd.Count} row(s) differ from the rest: {shown}{(odd.Count > 5 ? ", …" : string.Empty)}. Give every label as a class index or every label as a name");
    }
}
