using Microsoft.ML.TokenIdle.Serialization;

namespace Microsoft.ML.TokenIdle.Tests.Serialization;

public class BoundedFileTests
{
    [Fact]
    public void DevicesFifosFoldersAndOversizedFilesAreRefusedWithoutReading()
    {
        var folder = Directory.CreateTempSubdirectory("tokenidle-bounded-").FullName;
        var fifo = Path.Combine(folder, "pipe");
        HostileFiles.MakeFifo(fifo);
        var big = Path.Combine(folder, "big.bin");
        File.WriteAllBytes(big, new byte[1000]);

        // A FIFO with no writer would block an open; /dev/zero would never end.
        Assert.Equal("image file '/dev/zero' is empty or not a regular file", Assert.Throws<InvalidDataException>(() => BoundedFile.ReadAllBytes("/dev/zero", 1 << 20, "image file")).Message);
        Assert.Equal($"image file '{fifo}' is empty or not a regular file", Assert.Throws<InvalidDataException>(() => BoundedFile.ReadAllBytes(fifo, 1 << 20, "image file")).Message);
        Assert.Equal($"image file '{folder}' is a folder, not a file", Assert.Throws<InvalidDataException>(() => BoundedFile.ReadAllBytes(folder, 1 << 20, "image file")).Message);
        Assert.Equal($"image file '{big}' is 1,000 bytes, over the limit of 999", Assert.Throws<InvalidDataException>(() => BoundedFile.ReadAllBytes(big, 999, "image file")).Message);
        Assert.Throws<FileNotFoundException>(() => BoundedFile.ReadAllBytes(Path.Combine(folder, "none"), 10, "image file"));
        Assert.Equal(1000, BoundedFile.ReadAllBytes(big, 1000, "image file").Length);
        Directory.Delete(folder, recursive: true);
    }
}
