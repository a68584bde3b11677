<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
    <context>
        <name>AboutDialog</name>
        <message>
            <source>About vldesk</source>
            <translation>关于 vldesk</translation>
        </message>
        <message>
            <source>Understand images offline with local Qwen vision-language models.</source>
            <translation>使用本地 Qwen 视觉语言模型离线理解图片。</translation>
        </message>
        <message>
            <source>Versions</source>
            <translation>版本</translation>
        </message>
        <message>
            <source>CUDA (PyTorch build)</source>
            <translation>CUDA（PyTorch 构建）</translation>
        </message>
        <message>
            <source>Operating system</source>
            <translation>操作系统</translation>
        </message>
        <message>
            <source>Where files are stored</source>
            <translation>文件存放位置</translation>
        </message>
        <message>
            <source>Settings</source>
            <translation>设置</translation>
        </message>
        <message>
            <source>History</source>
            <translation>历史记录</translation>
        </message>
        <message>
            <source>Logs</source>
            <translation>日志</translation>
        </message>
        <message>
            <source>Models</source>
            <translation>模型</translation>
        </message>
        <message>
            <source>{0}:</source>
            <translation>{0}：</translation>
        </message>
        <message>
            <source>counting…</source>
            <translation>正在计算…</translation>
        </message>
        <message>
            <source>Disk space the models use</source>
            <translation>模型占用的磁盘空间</translation>
        </message>
        <message>
            <source>Models use:</source>
            <translation>模型占用：</translation>
        </message>
        <message>
            <source>Open &amp;Data Folder</source>
            <translation>打开数据文件夹(&amp;D)</translation>
        </message>
        <message>
            <source>Show the folder with the history in a file manager</source>
            <translation>在文件管理器中显示存放历史记录的文件夹</translation>
        </message>
        <message>
            <source>Open &amp;Models Folder</source>
            <translation>打开模型文件夹(&amp;M)</translation>
        </message>
        <message>
            <source>Show the downloaded models in a file manager</source>
            <translation>在文件管理器中显示已下载的模型</translation>
        </message>
        <message>
            <source>&amp;Copy Details</source>
            <translation>复制详情(&amp;C)</translation>
        </message>
        <message>
            <source>Copy versions and folders, e.g. for a bug report</source>
            <translation>复制版本和文件夹信息，例如用于报告问题</translation>
        </message>
    </context>
    <context>
        <name>AnswerView</name>
        <message>
            <source>Answer</source>
            <translation>回答</translation>
        </message>
        <message>
            <source>The conversation about the image; the newest answer is at the end.</source>
            <translation>关于这张图片的对话；最新的回答在末尾。</translation>
        </message>
        <message>
            <source>Copy answer</source>
            <translation>复制回答</translation>
        </message>
        <message>
            <source>Copy the last answer as Markdown (Ctrl+Shift+C)</source>
            <translation>以 Markdown 格式复制最后的回答（Ctrl+Shift+C）</translation>
        </message>
        <message>
            <source>Copy the answer</source>
            <translation>复制回答</translation>
        </message>
        <message>
            <source>Copy as alt text</source>
            <translation>复制为替代文本</translation>
        </message>
        <message>
            <source>Copy the last answer as one line of plain text (Ctrl+Alt+C)</source>
            <translation>将最后的回答复制为一行纯文本（Ctrl+Alt+C）</translation>
        </message>
        <message>
            <source>Copy the answer as alt text</source>
            <translation>将回答复制为替代文本</translation>
        </message>
        <message>
            <source>interrupted by an error</source>
            <translation>因错误中断</translation>
        </message>
        <message>
            <source>answering…</source>
            <translation>正在回答…</translation>
        </message>
        <message>
            <source>thinking… {0} s</source>
            <translation>思考中… {0} 秒</translation>
        </message>
        <message>
            <source>reading the image and the question…</source>
            <translation>正在读取图片和问题…</translation>
        </message>
        <message>
            <source>reading the image and the question… {0} s</source>
            <translation>正在读取图片和问题… {0} 秒</translation>
        </message>
        <message>
            <source>You</source>
            <translation>你</translation>
        </message>
        <message>
            <source>Answer: {0}</source>
            <translation>回答：{0}</translation>
        </message>
        <message>
            <source>The answer is complete.</source>
            <translation>回答已完成。</translation>
        </message>
        <message>
            <source>Copy</source>
            <translation>复制</translation>
        </message>
        <message>
            <source>Copy this question</source>
            <translation>复制这个问题</translation>
        </message>
        <message>
            <source>Edit</source>
            <translation>编辑</translation>
        </message>
        <message>
            <source>Change this question</source>
            <translation>修改这个问题</translation>
        </message>
        <message>
            <source>Copy this answer</source>
            <translation>复制这个回答</translation>
        </message>
        <message>
            <source>Regenerate</source>
            <translation>重新生成</translation>
        </message>
        <message>
            <source>Answer the last question again</source>
            <translation>重新回答最后一个问题</translation>
        </message>
    </context>
    <context>
        <name>Batch</name>
        <message>
            <source>Could not record progress in the batch job journal {path} ({reason}); the job stopped and can be resumed once the problem is fixed.</source>
            <translation>无法在批处理任务日志 {path} 中记录进度（{reason}）；任务已停止，问题解决后可以继续。</translation>
        </message>
        <message>
            <source>No earlier batch job matches this folder and these options; start it without resuming (the prompt, model, settings and caption options must be the same to resume).</source>
            <translation>没有与此文件夹和这些选项相符的先前批处理任务；请不续接直接开始（续接需要提示词、模型、设置和说明文件选项都相同）。</translation>
        </message>
        <message>
            <source>There is no batch job {job}.</source>
            <translation>没有批处理任务 {job}。</translation>
        </message>
        <message>
            <source>The batch job in {folder} cannot be read ({reason}).</source>
            <translation>无法读取 {folder} 中的批处理任务（{reason}）。</translation>
        </message>
        <message>
            <source>The batch job in {folder} cannot be read (no options).</source>
            <translation>无法读取 {folder} 中的批处理任务（没有选项）。</translation>
        </message>
        <message>
            <source>Could not delete the batch job {job} ({reason}).</source>
            <translation>无法删除批处理任务 {job}（{reason}）。</translation>
        </message>
        <message>
            <source>The prompt is empty.</source>
            <translation>提示词为空。</translation>
        </message>
        <message>
            <source>The batch job's settings cannot be read ({reason}).</source>
            <translation>无法读取批处理任务的设置（{reason}）。</translation>
        </message>
        <message>
            <source>No image types were given.</source>
            <translation>没有指定图片类型。</translation>
        </message>
        <message>
            <source>'{extension}' cannot be a caption file extension: use letters and digits, such as .txt or .caption.</source>
            <translation>“{extension}”不能作为描述文件的扩展名：请使用字母和数字，例如 .txt 或 .caption。</translation>
        </message>
        <message>
            <source>'{extension}' is an image type: captions written with it would replace images.</source>
            <translation>“{extension}”是图片类型：用它写入描述会覆盖图片。</translation>
        </message>
        <message>
            <source>The image could not be read.</source>
            <translation>无法读取这张图片。</translation>
        </message>
        <message>
            <source>The image could not be read ({reason}).</source>
            <translation>无法读取这张图片（{reason}）。</translation>
        </message>
        <message>
            <source>Not enough memory to decode this image.</source>
            <translation>内存不足，无法解码这张图片。</translation>
        </message>
        <message>
            <source>Out of memory with {count} images at once; continuing {size} at a time.</source>
            <translation>同时处理 {count} 张图片时内存不足；改为每次 {size} 张继续。</translation>
        </message>
        <message>
            <source>The boxes could not be exported: {reason}</source>
            <translation>无法导出框：{reason}</translation>
        </message>
        <message>
            <source>The folder {folder} does not exist.</source>
            <translation>文件夹 {folder} 不存在。</translation>
        </message>
        <message>
            <source>{folder} is a file, not a folder.</source>
            <translation>{folder} 是文件，不是文件夹。</translation>
        </message>
        <message>
            <source>{folder}: the folder cannot be read ({reason})</source>
            <translation>{folder}：无法读取文件夹（{reason}）</translation>
        </message>
        <message>
            <source>The folder {folder} cannot be read ({reason}).</source>
            <translation>无法读取文件夹 {folder}（{reason}）。</translation>
        </message>
        <message>
            <source>There are no images in {folder}: no {kinds} files in it or its subfolders.</source>
            <translation>{folder} 中没有图片：它及其子文件夹中都没有 {kinds} 文件。</translation>
        </message>
        <message>
            <source>There are no images in {folder}: no {kinds} files in it (subfolders were not searched).</source>
            <translation>{folder} 中没有图片：其中没有 {kinds} 文件（未搜索子文件夹）。</translation>
        </message>
    </context>
    <context>
        <name>BatchDialog</name>
        <message>
            <source>Describe Folder</source>
            <translation>描述文件夹</translation>
        </message>
        <message>
            <source>Folder</source>
            <translation>文件夹</translation>
        </message>
        <message>
            <source>The folder of images to describe</source>
            <translation>要描述的图片所在文件夹</translation>
        </message>
        <message>
            <source>&amp;Browse…</source>
            <translation>浏览(&amp;B)…</translation>
        </message>
        <message>
            <source>Choose the folder</source>
            <translation>选择文件夹</translation>
        </message>
        <message>
            <source>Include subfol&amp;ders</source>
            <translation>包含子文件夹(&amp;D)</translation>
        </message>
        <message>
            <source>Include {0} images</source>
            <translation>包含 {0} 图片</translation>
        </message>
        <message>
            <source>Images</source>
            <translation>图片</translation>
        </message>
        <message>
            <source>&amp;Folder:</source>
            <translation>文件夹(&amp;F)：</translation>
        </message>
        <message>
            <source>Types:</source>
            <translation>类型：</translation>
        </message>
        <message>
            <source>Preset</source>
            <translation>预设</translation>
        </message>
        <message>
            <source>Your own prompt</source>
            <translation>自定义提示词</translation>
        </message>
        <message>
            <source>Prompt</source>
            <translation>提示词</translation>
        </message>
        <message>
            <source>System prompt</source>
            <translation>系统提示词</translation>
        </message>
        <message>
            <source>Optional, e.g. “Answer in French.”</source>
            <translation>可选，例如“用法语回答。”</translation>
        </message>
        <message>
            <source>Pr&amp;eset:</source>
            <translation>预设(&amp;E)：</translation>
        </message>
        <message>
            <source>&amp;Prompt:</source>
            <translation>提示词(&amp;P)：</translation>
        </message>
        <message>
            <source>S&amp;ystem prompt:</source>
            <translation>系统提示词(&amp;Y)：</translation>
        </message>
        <message>
            <source>Maximum new tokens per caption</source>
            <translation>每条描述的最大新 token 数</translation>
        </message>
        <message>
            <source>Image token budget</source>
            <translation>图像 token 预算</translation>
        </message>
        <message>
            <source>More tokens keep more detail (small text) but describe more slowly.</source>
            <translation>token 越多，保留的细节（如小字）越多，但描述越慢。</translation>
        </message>
        <message>
            <source>Auto</source>
            <translation>自动</translation>
        </message>
        <message>
            <source>Batch size</source>
            <translation>批大小</translation>
        </message>
        <message>
            <source>Images per model call. Auto chooses from free memory; 1 shows each caption as it is written and pauses at once.</source>
            <translation>每次调用模型处理的图片数。“自动”根据可用内存选择；设为 1 时每条描述会边生成边显示，且能立即暂停。</translation>
        </message>
        <message>
            <source>Generation</source>
            <translation>生成</translation>
        </message>
        <message>
            <source>Max new &amp;tokens:</source>
            <translation>最大新 token 数(&amp;T)：</translation>
        </message>
        <message>
            <source>&amp;Image token budget:</source>
            <translation>图像 token 预算(&amp;I)：</translation>
        </message>
        <message>
            <source>B&amp;atch size:</source>
            <translation>批大小(&amp;A)：</translation>
        </message>
        <message>
            <source>Model: {0}. Sampling settings come from Settings.</source>
            <translation>模型：{0}。采样参数取自“设置”。</translation>
        </message>
        <message>
            <source>Problem</source>
            <translation>问题</translation>
        </message>
        <message>
            <source>&amp;Start</source>
            <translation>开始(&amp;S)</translation>
        </message>
        <message>
            <source>Start describing the folder</source>
            <translation>开始描述文件夹</translation>
        </message>
        <message>
            <source>Choose a folder of images</source>
            <translation>选择图片文件夹</translation>
        </message>
        <message>
            <source>Choose the folder of images to describe.</source>
            <translation>请选择要描述的图片文件夹。</translation>
        </message>
        <message>
            <source>The folder {0} does not exist.</source>
            <translation>文件夹 {0} 不存在。</translation>
        </message>
        <message>
            <source>Choose at least one image type.</source>
            <translation>请至少选择一种图片类型。</translation>
        </message>
        <message>
            <source>Enter a prompt, or choose a preset.</source>
            <translation>请输入提示词，或选择一个预设。</translation>
        </message>
        <message>
            <source>Check the servers first: the job uses the model they serve.</source>
            <translation>请先检查服务器：任务使用服务器提供的模型。</translation>
        </message>
    </context>
    <context>
        <name>BatchProgressView</name>
        <message>
            <source>No folder is being described.</source>
            <translation>当前没有正在描述的文件夹。</translation>
        </message>
        <message>
            <source>Batch</source>
            <translation>批处理</translation>
        </message>
        <message>
            <source>Images done</source>
            <translation>已完成的图片</translation>
        </message>
        <message>
            <source>Speed and time left</source>
            <translation>速度和剩余时间</translation>
        </message>
        <message>
            <source>Current image</source>
            <translation>当前图片</translation>
        </message>
        <message>
            <source>Caption of the current image</source>
            <translation>当前图片的描述</translation>
        </message>
        <message>
            <source>Captions appear here as they are written.</source>
            <translation>描述生成时会显示在这里。</translation>
        </message>
        <message>
            <source>Failed images</source>
            <translation>失败的图片</translation>
        </message>
        <message>
            <source>Image</source>
            <translation>图片</translation>
        </message>
        <message>
            <source>Reason</source>
            <translation>原因</translation>
        </message>
        <message>
            <source>Batch notice</source>
            <translation>批处理提示</translation>
        </message>
        <message>
            <source>&amp;Pause</source>
            <translation>暂停(&amp;P)</translation>
        </message>
        <message>
            <source>Pause after the current caption</source>
            <translation>在当前描述完成后暂停</translation>
        </message>
        <message>
            <source>Pause the batch</source>
            <translation>暂停批处理</translation>
        </message>
        <message>
            <source>&amp;Resume</source>
            <translation>继续(&amp;R)</translation>
        </message>
        <message>
            <source>Resume the batch</source>
            <translation>继续批处理</translation>
        </message>
        <message>
            <source>C&amp;ancel</source>
            <translation>取消(&amp;A)</translation>
        </message>
        <message>
            <source>Stop the batch. Finished captions are kept; it can be resumed later.</source>
            <translation>停止批处理。已完成的描述会保留，之后可以继续。</translation>
        </message>
        <message>
            <source>Cancel the batch</source>
            <translation>取消批处理</translation>
        </message>
        <message>
            <source>Re&amp;try Failed</source>
            <translation>重试失败项(&amp;T)</translation>
        </message>
        <message>
            <source>Describe the images that failed again</source>
            <translation>重新描述失败的图片</translation>
        </message>
        <message>
            <source>Retry the failed images</source>
            <translation>重试失败的图片</translation>
        </message>
        <message>
            <source>View &amp;Images</source>
            <translation>查看图片(&amp;I)</translation>
        </message>
        <message>
            <source>Browse the folder's images in the viewer</source>
            <translation>在查看器中浏览该文件夹的图片</translation>
        </message>
        <message>
            <source>View the folder's images</source>
            <translation>查看该文件夹的图片</translation>
        </message>
        <message>
            <source>Looking for images…</source>
            <translation>正在查找图片…</translation>
        </message>
        <message>
            <source>Retrying the failed images in {0}</source>
            <translation>正在重试 {0} 中失败的图片</translation>
        </message>
        <message>
            <source>Resuming {0}</source>
            <translation>正在继续 {0}</translation>
        </message>
        <message>
            <source>Describing {0}</source>
            <translation>正在描述 {0}</translation>
        </message>
        <message>
            <source>Now: {0}</source>
            <translation>当前：{0}</translation>
        </message>
        <message>
            <source>Now: {0} images at once, from {1}</source>
            <translation>当前：一次 {0} 张图片，从 {1} 开始</translation>
        </message>
        <message>
            <source>Last: {0}</source>
            <translation>上一张：{0}</translation>
        </message>
        <message>
            <source>(warning)</source>
            <translation>（警告）</translation>
        </message>
        <message>
            <source>{0} of {1}</source>
            <translation>{0} / {1}</translation>
        </message>
        <message>
            <source>{0} of {1} images</source>
            <translation>{0} / {1} 张图片</translation>
        </message>
        <message>
            <source>{0:.1f} images/min</source>
            <translation>{0:.1f} 张/分钟</translation>
        </message>
        <message>
            <source>about {0} left</source>
            <translation>约剩 {0}</translation>
        </message>
        <message>
            <source>{0} failed</source>
            <translation>{0} 张失败</translation>
        </message>
        <message>
            <source>{0} skipped (caption file exists)</source>
            <translation>{0} 张跳过（描述文件已存在）</translation>
        </message>
        <message>
            <source>Pausing after the current caption…</source>
            <translation>将在当前描述完成后暂停…</translation>
        </message>
        <message>
            <source>Paused</source>
            <translation>已暂停</translation>
        </message>
        <message>
            <source>Cancelling…</source>
            <translation>正在取消…</translation>
        </message>
        <message>
            <source>{0} captioned, {1} failed, {2} skipped of {3} images</source>
            <translation>共 {3} 张图片：{0} 张已生成描述，{1} 张失败，{2} 张跳过</translation>
        </message>
        <message>
            <source>Cancelled</source>
            <translation>已取消</translation>
        </message>
        <message>
            <source>Cancelled: {0}. Finished captions are kept; Resume continues where it stopped.</source>
            <translation>已取消：{0}。已完成的描述会保留；点击“继续”可从停止处接着处理。</translation>
        </message>
        <message>
            <source>Finished</source>
            <translation>已完成</translation>
        </message>
        <message>
            <source>Finished: {0} in {1}.</source>
            <translation>已完成：{0}，用时 {1}。</translation>
        </message>
        <message>
            <source>Retry Failed describes the failed images again.</source>
            <translation>“重试失败项”会重新描述失败的图片。</translation>
        </message>
        <message>
            <source>{0} — {1}</source>
            <translation>{0} — {1}</translation>
        </message>
        <message>
            <source>Last caption: {0}</source>
            <translation>上一条描述：{0}</translation>
        </message>
        <message>
            <source>Reports in {0}: {1}</source>
            <translation>报告位于 {0}：{1}</translation>
        </message>
        <message>
            <source>Reports: {0}</source>
            <translation>报告：{0}</translation>
        </message>
        <message>
            <source>The batch stopped: {0}</source>
            <translation>批处理已停止：{0}</translation>
        </message>
        <message>
            <source>What was done is kept; Resume tries again.</source>
            <translation>已完成的部分会保留；点击“继续”可再次尝试。</translation>
        </message>
        <message>
            <source>Failed images ({0})</source>
            <translation>失败的图片（{0}）</translation>
        </message>
        <message>
            <source>Go on where the batch stopped</source>
            <translation>从批处理停止的地方继续</translation>
        </message>
        <message>
            <source>Resume a paused or cancelled batch</source>
            <translation>继续已暂停或已取消的批处理</translation>
        </message>
    </context>
    <context>
        <name>BatchStatusButton</name>
        <message>
            <source>Folder batch progress</source>
            <translation>文件夹批处理进度</translation>
        </message>
        <message>
            <source>Show the folder batch</source>
            <translation>显示文件夹批处理</translation>
        </message>
        <message>
            <source>{0} of {1}</source>
            <translation>{0} / {1}</translation>
        </message>
        <message>
            <source>Pausing folder batch</source>
            <translation>正在暂停文件夹批处理</translation>
        </message>
        <message>
            <source>Folder batch paused</source>
            <translation>文件夹批处理已暂停</translation>
        </message>
        <message>
            <source>Cancelling folder batch</source>
            <translation>正在取消文件夹批处理</translation>
        </message>
        <message>
            <source>Describing folder</source>
            <translation>正在描述文件夹</translation>
        </message>
    </context>
    <context>
        <name>BoxOverlay</name>
        <message>
            <source>object</source>
            <translation>物体</translation>
        </message>
    </context>
    <context>
        <name>CaptionDelegate</name>
        <message>
            <source>Caption</source>
            <translation>说明</translation>
        </message>
    </context>
    <context>
        <name>CaptionOutputsBox</name>
        <message>
            <source>Caption files and reports</source>
            <translation>描述文件和报告</translation>
        </message>
        <message>
            <source>Caption file extension</source>
            <translation>描述文件扩展名</translation>
        </message>
        <message>
            <source>photo.jpg gets photo.txt with .txt; e.g. .caption</source>
            <translation>使用 .txt 时，photo.jpg 对应 photo.txt；也可以用 .caption 等</translation>
        </message>
        <message>
            <source>S&amp;kip the image</source>
            <translation>跳过该图片(&amp;K)</translation>
        </message>
        <message>
            <source>&amp;Overwrite the file</source>
            <translation>覆盖该文件(&amp;O)</translation>
        </message>
        <message>
            <source>Appe&amp;nd the new caption</source>
            <translation>追加新描述(&amp;N)</translation>
        </message>
        <message>
            <source>Caption prefix</source>
            <translation>描述前缀</translation>
        </message>
        <message>
            <source>Optional, e.g. a trigger word and a comma</source>
            <translation>可选，例如一个触发词加逗号</translation>
        </message>
        <message>
            <source>Caption suffix</source>
            <translation>描述后缀</translation>
        </message>
        <message>
            <source>Optional</source>
            <translation>可选</translation>
        </message>
        <message>
            <source>Write a {0} report</source>
            <translation>写入 {0} 报告</translation>
        </message>
        <message>
            <source>Reports folder</source>
            <translation>报告文件夹</translation>
        </message>
        <message>
            <source>The image folder</source>
            <translation>图片所在文件夹</translation>
        </message>
        <message>
            <source>Bro&amp;wse…</source>
            <translation>浏览(&amp;W)…</translation>
        </message>
        <message>
            <source>Choose the reports folder</source>
            <translation>选择报告文件夹</translation>
        </message>
        <message>
            <source>E&amp;xtension:</source>
            <translation>扩展名(&amp;X)：</translation>
        </message>
        <message>
            <source>If a caption file exists:</source>
            <translation>如果描述文件已存在：</translation>
        </message>
        <message>
            <source>P&amp;refix:</source>
            <translation>前缀(&amp;R)：</translation>
        </message>
        <message>
            <source>S&amp;uffix:</source>
            <translation>后缀(&amp;U)：</translation>
        </message>
        <message>
            <source>Reports:</source>
            <translation>报告：</translation>
        </message>
        <message>
            <source>Reports fo&amp;lder:</source>
            <translation>报告文件夹(&amp;L)：</translation>
        </message>
        <message>
            <source>Choose where the reports go</source>
            <translation>选择报告的保存位置</translation>
        </message>
    </context>
    <context>
        <name>Captions</name>
        <message>
            <source>{file}: an empty caption cannot be saved.</source>
            <translation>{file}：不能保存空的说明。</translation>
        </message>
        <message>
            <source>{file} has no caption to approve.</source>
            <translation>{file} 没有可以通过审核的说明。</translation>
        </message>
    </context>
    <context>
        <name>Catalog</name>
        <message>
            <source>Small, fast and good at OCR: the default, runs on most laptops.</source>
            <translation>小巧、快速，擅长文字识别（OCR）：默认模型，大多数笔记本电脑都能运行。</translation>
        </message>
        <message>
            <source>Noticeably better descriptions and reasoning; wants 16 GB of RAM on CPU.</source>
            <translation>描述和推理明显更好；在 CPU 上运行需要 16 GB 内存。</translation>
        </message>
        <message>
            <source>The most capable; best on a GPU with 24 GB.</source>
            <translation>能力最强；最好在 24 GB 显存的 GPU 上运行。</translation>
        </message>
        <message>
            <source>The previous generation, well tested; strong at documents.</source>
            <translation>上一代模型，久经检验；擅长处理文档。</translation>
        </message>
        <message>
            <source>The previous generation's large model.</source>
            <translation>上一代的大模型。</translation>
        </message>
        <message>
            <source>Tiny and quick: short captions on modest machines.</source>
            <translation>极小且快速：在普通电脑上生成简短说明。</translation>
        </message>
        <message>
            <source>Newest small model with hybrid linear attention.</source>
            <translation>最新的小模型，采用混合线性注意力。</translation>
        </message>
    </context>
    <context>
        <name>CatalogModel</name>
        <message>
            <source>Memory size unknown.</source>
            <translation>内存大小未知。</translation>
        </message>
        <message>
            <source>Too big: needs ~{need} ({precision}) of {have} GPU memory.</source>
            <translation>太大：需要约 {need}（{precision}），GPU 显存共 {have}。</translation>
        </message>
        <message>
            <source>Tight: needs ~{need} ({precision}) of {have} GPU memory; close other programs.</source>
            <translation>勉强：需要约 {need}（{precision}），GPU 显存共 {have}；请关闭其他程序。</translation>
        </message>
        <message>
            <source>Fits: needs ~{need} ({precision}) of {have} GPU memory.</source>
            <translation>可运行：需要约 {need}（{precision}），GPU 显存共 {have}。</translation>
        </message>
        <message>
            <source>Too big: needs ~{need} ({precision}) of {have} RAM.</source>
            <translation>太大：需要约 {need}（{precision}），内存共 {have}。</translation>
        </message>
        <message>
            <source>Tight: needs ~{need} ({precision}) of {have} RAM; close other programs.</source>
            <translation>勉强：需要约 {need}（{precision}），内存共 {have}；请关闭其他程序。</translation>
        </message>
        <message>
            <source>Fits: needs ~{need} ({precision}) of {have} RAM.</source>
            <translation>可运行：需要约 {need}（{precision}），内存共 {have}。</translation>
        </message>
        <message>
            <source> (default)</source>
            <translation>（默认）</translation>
        </message>
        <message>
            <source> (llama.cpp)</source>
            <translation>（llama.cpp）</translation>
        </message>
        <message>
            <source>Imported from {path}</source>
            <translation>导入自 {path}</translation>
        </message>
        <message>
            <source>Model</source>
            <translation>模型</translation>
        </message>
        <message>
            <source>Download</source>
            <translation>下载大小</translation>
        </message>
        <message>
            <source>This machine</source>
            <translation>本机</translation>
        </message>
        <message>
            <source>State</source>
            <translation>状态</translation>
        </message>
        <message>
            <source>Fits</source>
            <translation>可运行</translation>
        </message>
        <message>
            <source>Tight</source>
            <translation>勉强</translation>
        </message>
        <message>
            <source>Too big</source>
            <translation>太大</translation>
        </message>
        <message>
            <source>Unknown</source>
            <translation>未知</translation>
        </message>
        <message>
            <source>Downloading {percent:.0f}%</source>
            <translation>正在下载 {percent:.0f}%</translation>
        </message>
        <message>
            <source>Imported</source>
            <translation>已导入</translation>
        </message>
        <message>
            <source>Partial ({percent:.0f}%)</source>
            <translation>部分下载（{percent:.0f}%）</translation>
        </message>
        <message>
            <source>Installed</source>
            <translation>已安装</translation>
        </message>
        <message>
            <source>Not downloaded</source>
            <translation>未下载</translation>
        </message>
        <message>
            <source>Partial</source>
            <translation>部分下载</translation>
        </message>
        <message>
            <source>Damaged</source>
            <translation>已损坏</translation>
        </message>
    </context>
    <context>
        <name>ChatSession</name>
        <message>
            <source>Region {0}×{1} px at ({2}, {3}):</source>
            <translation>区域 {0}×{1} 像素，位于 ({2}, {3})：</translation>
        </message>
    </context>
    <context>
        <name>ConnectDialog</name>
        <message>
            <source>Connect to a Server</source>
            <translation>连接到服务器</translation>
        </message>
        <message>
            <source>Server address</source>
            <translation>服务器地址</translation>
        </message>
        <message>
            <source>API key</source>
            <translation>API 密钥</translation>
        </message>
        <message>
            <source>From {0}</source>
            <translation>来自 {0}</translation>
        </message>
        <message>
            <source>Optional</source>
            <translation>可选</translation>
        </message>
        <message>
            <source>&amp;Remember the key on this computer</source>
            <translation>在这台电脑上记住密钥(&amp;R)</translation>
        </message>
        <message>
            <source>Kept in a file only you can read, never in the settings, history or logs.</source>
            <translation>保存在只有你能读取的文件中，绝不写入设置、历史记录或日志。</translation>
        </message>
        <message>
            <source>&amp;List Models</source>
            <translation>列出模型(&amp;L)</translation>
        </message>
        <message>
            <source>Served model</source>
            <translation>服务器上的模型</translation>
        </message>
        <message>
            <source>Model family</source>
            <translation>模型系列</translation>
        </message>
        <message>
            <source>From the model's name</source>
            <translation>根据模型名称判断</translation>
        </message>
        <message>
            <source>Server status</source>
            <translation>服务器状态</translation>
        </message>
        <message>
            <source>&amp;Address:</source>
            <translation>地址(&amp;A)：</translation>
        </message>
        <message>
            <source>API &amp;key:</source>
            <translation>API 密钥(&amp;K)：</translation>
        </message>
        <message>
            <source>&amp;Model:</source>
            <translation>模型(&amp;M)：</translation>
        </message>
        <message>
            <source>&amp;Family:</source>
            <translation>系列(&amp;F)：</translation>
        </message>
        <message>
            <source>Any OpenAI-compatible server: vLLM, SGLang, llama.cpp, LM Studio, Ollama, or another computer running vldesk serve.</source>
            <translation>任何兼容 OpenAI 的服务器：vLLM、SGLang、llama.cpp、LM Studio、Ollama，或另一台运行 vldesk serve 的电脑。</translation>
        </message>
        <message>
            <source>&amp;Connect</source>
            <translation>连接(&amp;C)</translation>
        </message>
        <message>
            <source>Enter the server's address, e.g. {0}</source>
            <translation>请输入服务器地址，例如 {0}</translation>
        </message>
        <message>
            <source>Plain http:// to another computer: the images and the API key cross the network unencrypted. Use https:// (or an SSH tunnel) where the network is not yours.</source>
            <translation>以明文 http:// 连接另一台电脑：图片和 API 密钥将未加密地经过网络。在不属于你的网络上请使用 https://（或 SSH 隧道）。</translation>
        </message>
        <message>
            <source>Plain http:// to another computer: the images cross the network unencrypted. Use https:// (or an SSH tunnel) where the network is not yours.</source>
            <translation>以明文 http:// 连接另一台电脑：图片将未加密地经过网络。在不属于你的网络上请使用 https://（或 SSH 隧道）。</translation>
        </message>
        <message>
            <source>Asking {0} for its models…</source>
            <translation>正在向 {0} 查询模型…</translation>
        </message>
        <message>
            <source>The server serves no model (yet).</source>
            <translation>该服务器（暂时）没有提供任何模型。</translation>
        </message>
        <message>
            <source>Models on this server: {0}.</source>
            <translation>此服务器上的模型：{0} 个。</translation>
        </message>
    </context>
    <context>
        <name>CpuSpeed</name>
        <message>
            <source>AMX</source>
            <translation>支持 AMX</translation>
        </message>
        <message>
            <source>AVX-512-BF16</source>
            <translation>支持 AVX-512-BF16</translation>
        </message>
        <message>
            <source>AVX2 only</source>
            <translation>仅 AVX2</translation>
        </message>
        <message>
            <source>Intel Xeon with AMX, 2 cores (session 1)</source>
            <translation>带 AMX 的 Intel Xeon，2 核（第 1 轮）</translation>
        </message>
        <message>
            <source>AMD EPYC Zen 4, 2 cores (sessions 5-6)</source>
            <translation>AMD EPYC Zen 4，2 核（第 5–6 轮）</translation>
        </message>
        <message>
            <source>AMD Zen 3 (issue 13)</source>
            <translation>AMD Zen 3（issue 13）</translation>
        </message>
        <message>
            <source>5.5 tokens/s (bfloat16)</source>
            <translation>每秒 5.5 个 token（bfloat16）</translation>
        </message>
        <message>
            <source>not measured</source>
            <translation>未测量</translation>
        </message>
        <message>
            <source>6.8 tokens/s full, 8.1 int8, 11.4 int4</source>
            <translation>完整权重每秒 6.8 个 token，int8 为 8.1，int4 为 11.4</translation>
        </message>
        <message>
            <source>11.8 tokens/s F16, 14.2 Q8_0, 26.6 Q4_K_M</source>
            <translation>F16 每秒 11.8 个 token，Q8_0 为 14.2，Q4_K_M 为 26.6</translation>
        </message>
        <message>
            <source>0.04-0.24x llama.cpp's speed (float32)</source>
            <translation>llama.cpp 速度的 0.04–0.24 倍（float32）</translation>
        </message>
        <message>
            <source>4-25x transformers' speed</source>
            <translation>transformers 速度的 4–25 倍</translation>
        </message>
        <message>
            <source>{model} as GGUF {quant}, run by llama.cpp on the CPU.</source>
            <translation>{model} 的 GGUF {quant} 版本，由 llama.cpp 在 CPU 上运行。</translation>
        </message>
        <message>
            <source>This CPU: {kind}. Qwen3-VL-2B decodes at transformers {transformers}, llama.cpp {llama} (measured on {machine}). Faster here: {engine}.</source>
            <translation>本机 CPU：{kind}。Qwen3-VL-2B 的生成速度：transformers {transformers}，llama.cpp {llama}（测量于 {machine}）。在本机更快的是：{engine}。</translation>
        </message>
        <message>
            <source>Install llama.cpp for vldesk to use it: {command}</source>
            <translation>如需使用，请为 vldesk 安装 llama.cpp：{command}</translation>
        </message>
        <message>
            <source>Download a GGUF version (the rows marked llama.cpp) to use it.</source>
            <translation>如需使用，请下载 GGUF 版本（标有 llama.cpp 的行）。</translation>
        </message>
    </context>
    <context>
        <name>DesktopApp</name>
        <message>
            <source>History is not available: {0}</source>
            <translation>历史记录不可用：{0}</translation>
        </message>
        <message>
            <source>Copied to the clipboard.</source>
            <translation>已复制到剪贴板。</translation>
        </message>
        <message>
            <source>The new interface language is used from the next start of vldesk.</source>
            <translation>新的界面语言将在下次启动 vldesk 时生效。</translation>
        </message>
        <message>
            <source>Restart now</source>
            <translation>立即重启</translation>
        </message>
        <message>
            <source>Load a model first: folders are described with the loaded model (Model menu).</source>
            <translation>请先加载模型：文件夹会用已加载的模型来描述（“模型”菜单）。</translation>
        </message>
        <message>
            <source>the model the servers serve</source>
            <translation>服务器提供的模型</translation>
        </message>
        <message>
            <source>This batch was started with {0}: load it again to continue the batch.</source>
            <translation>此批处理是用 {0} 开始的：请重新加载该模型以继续批处理。</translation>
        </message>
        <message>
            <source>The model is busy describing a folder: questions can be asked again when the batch finishes or is cancelled. Images can still be viewed.</source>
            <translation>模型正在描述文件夹：批处理完成或取消后才能继续提问。图片仍可查看。</translation>
        </message>
        <message>
            <source>Describing {0} was cancelled: {1} of {2} images done.</source>
            <translation>已取消描述 {0}：已完成 {1} / {2} 张图片。</translation>
        </message>
        <message>
            <source>Finished describing {0}: {1} captioned, {2} failed, {3} skipped.</source>
            <translation>已完成描述 {0}：{1} 张已生成描述，{2} 张失败，{3} 张跳过。</translation>
        </message>
        <message>
            <source>Show</source>
            <translation>显示</translation>
        </message>
        <message>
            <source>Describing the folder stopped: {0}</source>
            <translation>文件夹描述已停止：{0}</translation>
        </message>
        <message>
            <source>stopped</source>
            <translation>已停止</translation>
        </message>
        <message>
            <source>cut off at the token limit (Settings → Max new tokens)</source>
            <translation>已达到 token 上限而截断（设置 → 最大新 token 数）</translation>
        </message>
        <message>
            <source>The answer could not be saved to history: {0}</source>
            <translation>回答未能保存到历史记录：{0}</translation>
        </message>
        <message>
            <source>*The model is unloaded.* Choose a model in the **Model** menu to load one.</source>
            <translation>*模型已卸载。* 在**模型**菜单中选择一个模型即可重新载入。</translation>
        </message>
        <message>
            <source>*Loading the model…*</source>
            <translation>*正在加载模型…*</translation>
        </message>
        <message>
            <source>Choose a preset below, or type a question about the image and press **Enter**. Follow-up questions continue the conversation.</source>
            <translation>选择下方的预设，或输入关于这张图片的问题并按 **Enter**。后续提问会接着当前对话。</translation>
        </message>
        <message>
            <source>Open an image (**Ctrl+O**), drop one on the window or paste one (**Ctrl+V**), then choose a preset or ask a question.</source>
            <translation>打开图片（**Ctrl+O**）、拖放到窗口或粘贴（**Ctrl+V**），然后选择预设或直接提问。</translation>
        </message>
        <message>
            <source>Open an image first (Ctrl+O, drop or paste).</source>
            <translation>请先打开一张图片（Ctrl+O、拖放或粘贴）。</translation>
        </message>
        <message>
            <source>The model is not loaded yet.</source>
            <translation>模型尚未加载。</translation>
        </message>
        <message>
            <source>Retry with {0} image tokens</source>
            <translation>以 {0} 个图像 token 重试</translation>
        </message>
        <message>
            <source>Retry on the CPU</source>
            <translation>改用 CPU 重试</translation>
        </message>
        <message>
            <source>The image of this conversation cannot be opened, so follow-up questions are not possible. {0}</source>
            <translation>无法打开此对话的图像，因此无法继续提问。{0}</translation>
        </message>
        <message>
            <source>The image of this conversation is no longer available, so follow-up questions are not possible.</source>
            <translation>此对话的图片已不存在，因此无法继续追问。</translation>
        </message>
        <message>
            <source>{0} (only a thumbnail is kept)</source>
            <translation>{0}（仅保留了缩略图）</translation>
        </message>
        <message>
            <source>pasted image</source>
            <translation>粘贴的图片</translation>
        </message>
        <message>
            <source>Delete from history</source>
            <translation>从历史记录中删除</translation>
        </message>
        <message>
            <source>Delete {0} conversation(s) from the history? This cannot be undone.</source>
            <translation>要从历史记录中删除 {0} 个对话吗？此操作无法撤销。</translation>
        </message>
        <message>
            <source>Saved {0}.</source>
            <translation>已保存 {0}。</translation>
        </message>
        <message>
            <source>Export Answer</source>
            <translation>导出回答</translation>
        </message>
        <message>
            <source>Export Conversation</source>
            <translation>导出对话</translation>
        </message>
        <message>
            <source>There is nothing in the history to export.</source>
            <translation>历史记录中没有可导出的内容。</translation>
        </message>
        <message>
            <source>Export History</source>
            <translation>导出历史记录</translation>
        </message>
        <message>
            <source>Open Image</source>
            <translation>打开图片</translation>
        </message>
        <message>
            <source>Images ({0});;All files (*)</source>
            <translation>图片 ({0});;所有文件 (*)</translation>
        </message>
        <message>
            <source>Not image files, skipped: {0}</source>
            <translation>不是图片文件，已跳过：{0}</translation>
        </message>
        <message>
            <source>There are no images there.</source>
            <translation>那里没有图片。</translation>
        </message>
        <message>
            <source>Opening {0}…</source>
            <translation>正在打开 {0}…</translation>
        </message>
        <message>
            <source>The clipboard holds no image to paste.</source>
            <translation>剪贴板中没有可粘贴的图片。</translation>
        </message>
        <message>
            <source>Skipped a file that cannot be opened: {0}</source>
            <translation>已跳过无法打开的文件：{0}</translation>
        </message>
        <message>
            <source>{0} cannot be opened.</source>
            <translation>无法打开 {0}。</translation>
        </message>
        <message>
            <source>cannot be opened</source>
            <translation>无法打开</translation>
        </message>
        <message>
            <source>{0} of {1}</source>
            <translation>第 {0} 张，共 {1} 张</translation>
        </message>
        <message>
            <source>Choose a model folder</source>
            <translation>选择模型文件夹</translation>
        </message>
        <message>
            <source>{0} cannot be used as a model: {1}</source>
            <translation>{0} 无法用作模型：{1}</translation>
        </message>
        <message>
            <source>The model is busy describing a folder. Cancel the batch or wait for it to finish, then try again.</source>
            <translation>模型正在描述文件夹。请取消批处理或等待其完成后再试。</translation>
        </message>
        <message>
            <source>Loading {0}…</source>
            <translation>正在加载 {0}…</translation>
        </message>
        <message>
            <source>Connected: {0} on {1}.</source>
            <translation>已连接：{1} 上的 {0}。</translation>
        </message>
        <message>
            <source>{0} is ready ({1:.1f} s).</source>
            <translation>{0} 已就绪（{1:.1f} 秒）。</translation>
        </message>
        <message>
            <source>The model was unloaded.</source>
            <translation>模型已卸载。</translation>
        </message>
        <message>
            <source>{0} is downloaded; choose it in the Model menu.</source>
            <translation>{0} 已下载；请在“模型”菜单中选择它。</translation>
        </message>
        <message>
            <source>Only an image opened from a file can get a caption (a pasted one has none).</source>
            <translation>只有从文件打开的图片才能保存说明（粘贴的图片没有文件）。</translation>
        </message>
        <message>
            <source>There is no finished answer to save yet.</source>
            <translation>还没有可保存的完整回答。</translation>
        </message>
        <message>
            <source>Saving the caption…</source>
            <translation>正在保存说明…</translation>
        </message>
        <message>
            <source>Caption saved in {0}.</source>
            <translation>说明已保存到 {0}。</translation>
        </message>
        <message>
            <source>Save Caption to Photo</source>
            <translation>将说明保存到照片</translation>
        </message>
        <message>
            <source>{0} already has a description that a person wrote:</source>
            <translation>{0} 已有一段由人撰写的描述：</translation>
        </message>
        <message>
            <source>“{0}”

Replace it with the answer? It cannot be undone.</source>
            <translation>“{0}”

要用这个回答替换它吗？此操作无法撤销。</translation>
        </message>
        <message>
            <source>Replace</source>
            <translation>替换</translation>
        </message>
        <message>
            <source>Keep Theirs</source>
            <translation>保留原描述</translation>
        </message>
        <message>
            <source>The photo's own description was kept.</source>
            <translation>已保留照片原有的描述。</translation>
        </message>
        <message>
            <source>The server could not be remembered: {0}</source>
            <translation>无法记住该服务器：{0}</translation>
        </message>
        <message>
            <source>{0} could not be reached again, so the model on this computer is used. {1}</source>
            <translation>无法再次连接到 {0}，因此改用本机上的模型。{1}</translation>
        </message>
        <message>
            <source>Folder Batch</source>
            <translation>文件夹批处理</translation>
        </message>
        <message>
            <source>Folder &amp;Batch</source>
            <translation>文件夹批处理(&amp;B)</translation>
        </message>
        <message>
            <source>Show the progress of describing a folder</source>
            <translation>显示描述文件夹的进度</translation>
        </message>
        <message>
            <source>### No model is available yet

vldesk needs a Qwen vision-language model on this computer. Choose **Model → Manage Models…** (Ctrl+M) to download one, or download one in a terminal:

`vldesk models download Qwen/Qwen3-VL-2B-Instruct`

or choose **Model → Open Model Folder…** to use a model folder you already have.</source>
            <translation>### 还没有可用的模型

vldesk 需要本机上有一个 Qwen 视觉语言模型。选择 **模型 → 管理模型…**（Ctrl+M）下载一个，或在终端中下载：

`vldesk models download Qwen/Qwen3-VL-2B-Instruct`

或选择 **模型 → 打开模型文件夹…** 使用已有的模型文件夹。</translation>
        </message>
    </context>
    <context>
        <name>Downloads</name>
        <message>
            <source>Cannot create the models folder {folder}: {reason}. Choose another models folder in the settings (or set VLDESK_MODELS_DIR).</source>
            <translation>无法创建模型文件夹 {folder}：{reason}。请在设置中选择其他模型文件夹（或设置 VLDESK_MODELS_DIR）。</translation>
        </message>
        <message>
            <source>Not enough disk space for {model}: it needs {needed} more in {folder}, but only {free} is free. Free some space, or choose another models folder in the settings (or set VLDESK_MODELS_DIR).</source>
            <translation>磁盘空间不足，无法下载 {model}：还需要在 {folder} 中占用 {needed}，但只剩 {free} 可用。请释放一些空间，或在设置中选择其他模型文件夹（或设置 VLDESK_MODELS_DIR）。</translation>
        </message>
        <message>
            <source>What was already downloaded is kept: start the download again to resume.</source>
            <translation>已下载的部分会保留：再次开始下载即可继续。</translation>
        </message>
        <message>
            <source>check the internet connection (and proxy settings), then try again</source>
            <translation>请检查网络连接（和代理设置），然后重试</translation>
        </message>
        <message>
            <source>cannot be reached</source>
            <translation>无法连接</translation>
        </message>
        <message>
            <source>has no such model</source>
            <translation>没有这个模型</translation>
        </message>
        <message>
            <source>is not working properly (HTTP {code})</source>
            <translation>工作不正常（HTTP {code}）</translation>
        </message>
        <message>
            <source>is not working properly</source>
            <translation>工作不正常</translation>
        </message>
        <message>
            <source>ModelScope ({endpoint}) has no model {model}. Check the model id and the ModelScope address (a private model also needs MODELSCOPE_API_TOKEN).</source>
            <translation>ModelScope（{endpoint}）上没有模型 {model}。请检查模型 ID 和 ModelScope 地址（私有模型还需要 MODELSCOPE_API_TOKEN）。</translation>
        </message>
        <message>
            <source>ModelScope refused access to {model} (HTTP {code}). The model may have become private, or a ModelScope token is needed (MODELSCOPE_API_TOKEN).</source>
            <translation>ModelScope 拒绝访问 {model}（HTTP {code}）。该模型可能已设为私有，或需要 ModelScope 令牌（MODELSCOPE_API_TOKEN）。</translation>
        </message>
        <message>
            <source>ModelScope is limiting requests right now; wait a few minutes. {kept}</source>
            <translation>ModelScope 目前正在限制请求；请等几分钟。{kept}</translation>
        </message>
        <message>
            <source>ModelScope is not working properly right now (HTTP {code}); try again later. {kept}</source>
            <translation>ModelScope 目前工作不正常（HTTP {code}）；请稍后重试。{kept}</translation>
        </message>
        <message>
            <source>Cannot reach ModelScope at {endpoint}: {advice}. {kept}</source>
            <translation>无法连接 ModelScope（{endpoint}）：{advice}。{kept}</translation>
        </message>
        <message>
            <source>ModelScope at {endpoint} sent nothing more of {what} for too long; {advice}. {kept}</source>
            <translation>ModelScope（{endpoint}）长时间没有继续发送 {what}；{advice}。{kept}</translation>
        </message>
        <message>
            <source>The disk filled up while downloading to {folder}. Free some space, then start the download again to resume.</source>
            <translation>下载到 {folder} 时磁盘已满。请释放一些空间，然后再次开始下载以继续。</translation>
        </message>
        <message>
            <source>Cannot write the model files to {folder}: {reason}. Choose another models folder in the settings (or set VLDESK_MODELS_DIR).</source>
            <translation>无法把模型文件写入 {folder}：{reason}。请在设置中选择其他模型文件夹（或设置 VLDESK_MODELS_DIR）。</translation>
        </message>
        <message>
            <source>ModelScope at {site} {problem}; trying {other} instead.</source>
            <translation>位于 {site} 的 ModelScope {problem}；改为尝试 {other}。</translation>
        </message>
        <message>
            <source>Neither ModelScope site ({sites}) has a model {model}. Check the model id (a private model also needs MODELSCOPE_API_TOKEN).</source>
            <translation>两个 ModelScope 站点（{sites}）都没有模型 {model}。请检查模型 ID（私有模型还需要 MODELSCOPE_API_TOKEN）。</translation>
        </message>
        <message>
            <source>ModelScope cannot be used right now ({sites}): {advice}.</source>
            <translation>ModelScope 目前无法使用（{sites}）：{advice}。</translation>
        </message>
    </context>
    <context>
        <name>DropHighlight</name>
        <message>
            <source>Drop images or folders to open them</source>
            <translation>松开鼠标即可打开图片或文件夹</translation>
        </message>
    </context>
    <context>
        <name>Engine</name>
        <message>
            <source>The model has been unloaded.</source>
            <translation>模型已卸载。</translation>
        </message>
        <message>
            <source>Out of memory while answering on {device}. Try a smaller image budget, fewer images, or another device.</source>
            <translation>在 {device} 上回答时内存不足。请减小图像预算、减少图片数量，或换一个设备。</translation>
        </message>
        <message>
            <source>Generation failed: {reason}</source>
            <translation>生成失败：{reason}</translation>
        </message>
        <message>
            <source>Not enough memory to load {model} on {device} in {dtype}. Try a smaller model or another device.</source>
            <translation>内存不足，无法以 {dtype} 在 {device} 上加载 {model}。请换一个更小的模型或其他设备。</translation>
        </message>
        <message>
            <source>The model in {path} could not be loaded: {reason}</source>
            <translation>无法加载 {path} 中的模型：{reason}</translation>
        </message>
    </context>
    <context>
        <name>ErrorDialog</name>
        <message>
            <source>vldesk — unexpected error</source>
            <translation>vldesk — 意外错误</translation>
        </message>
        <message>
            <source>Error message</source>
            <translation>错误信息</translation>
        </message>
        <message>
            <source>vldesk keeps running; your settings and history are untouched.</source>
            <translation>vldesk 仍在运行；您的设置和历史记录不受影响。</translation>
        </message>
        <message>
            <source>The details were written to {0}.</source>
            <translation>详细信息已写入 {0}。</translation>
        </message>
        <message>
            <source>Error details</source>
            <translation>错误详情</translation>
        </message>
        <message>
            <source>Copy details</source>
            <translation>复制详情</translation>
        </message>
        <message>
            <source>Copy the error details</source>
            <translation>复制错误详情</translation>
        </message>
        <message>
            <source>Show details</source>
            <translation>显示详情</translation>
        </message>
    </context>
    <context>
        <name>ExceptionHook</name>
        <message>
            <source>vldesk ran out of memory. Close other programs or use a smaller model.</source>
            <translation>vldesk 内存不足。请关闭其他程序或使用更小的模型。</translation>
        </message>
        <message>
            <source>Something went wrong: {0}: {1}</source>
            <translation>出现错误：{0}：{1}</translation>
        </message>
    </context>
    <context>
        <name>Export</name>
        <message>
            <source>Markdown (*.md);;Text (*.txt)</source>
            <translation>Markdown (*.md);;纯文本 (*.txt)</translation>
        </message>
    </context>
    <context>
        <name>Files</name>
        <message>
            <source>{path} is a folder: could not save a file there.</source>
            <translation>{path} 是文件夹：无法在那里保存文件。</translation>
        </message>
        <message>
            <source>The disk is full: could not save {path}.</source>
            <translation>磁盘已满：无法保存 {path}。</translation>
        </message>
        <message>
            <source>The disk quota is exceeded: could not save {path}.</source>
            <translation>超出磁盘配额：无法保存 {path}。</translation>
        </message>
        <message>
            <source>The disk is read-only: could not save {path}.</source>
            <translation>磁盘是只读的：无法保存 {path}。</translation>
        </message>
        <message>
            <source>Permission denied: could not save {path}.</source>
            <translation>没有权限：无法保存 {path}。</translation>
        </message>
        <message>
            <source>The folder {folder} does not exist: could not save {path}.</source>
            <translation>文件夹 {folder} 不存在：无法保存 {path}。</translation>
        </message>
        <message>
            <source>The file name is too long: could not save {path}.</source>
            <translation>文件名太长：无法保存 {path}。</translation>
        </message>
        <message>
            <source>Could not save {path} ({reason}).</source>
            <translation>无法保存 {path}（{reason}）。</translation>
        </message>
        <message>
            <source>Could not create the folder {folder}: {reason}.</source>
            <translation>无法创建文件夹 {folder}：{reason}。</translation>
        </message>
        <message>
            <source>Could not back up the unreadable settings file {path}, so it was not replaced.</source>
            <translation>无法备份无法读取的设置文件 {path}，因此没有替换它。</translation>
        </message>
    </context>
    <context>
        <name>FirstDownloadPanel</name>
        <message>
            <source>Choose &amp;folder…</source>
            <translation>选择文件夹(&amp;F)…</translation>
        </message>
        <message>
            <source>Keep the models in another folder or disk</source>
            <translation>把模型放到其他文件夹或磁盘</translation>
        </message>
        <message>
            <source>Download {model} ({size}) to {folder}</source>
            <translation>下载 {model}（{size}）到 {folder}</translation>
        </message>
        <message>
            <source>Download {model} ({size}) to {folder}, {free} free</source>
            <translation>下载 {model}（{size}）到 {folder}，可用空间 {free}</translation>
        </message>
        <message>
            <source>Choose the models folder</source>
            <translation>选择模型文件夹</translation>
        </message>
    </context>
    <context>
        <name>FolderField</name>
        <message>
            <source>&amp;Browse…</source>
            <translation>浏览(&amp;B)…</translation>
        </message>
    </context>
    <context>
        <name>FolderPanel</name>
        <message>
            <source>Open Folder</source>
            <translation>打开文件夹</translation>
        </message>
        <message>
            <source>Reading {0}…</source>
            <translation>正在读取 {0}…</translation>
        </message>
        <message>
            <source>No folder is open.</source>
            <translation>尚未打开文件夹。</translation>
        </message>
        <message>
            <source>{0}: {1} images</source>
            <translation>{0}：{1} 张图片</translation>
        </message>
        <message>
            <source>{0}: {1} of {2} images</source>
            <translation>{0}：显示 {1} 张，共 {2} 张图片</translation>
        </message>
        <message>
            <source>Approved {0}.</source>
            <translation>已审核 {0}。</translation>
        </message>
        <message>
            <source>Saved the caption of {0}.</source>
            <translation>已保存 {0} 的说明。</translation>
        </message>
        <message>
            <source>failed</source>
            <translation>失败</translation>
        </message>
        <message>
            <source>reviewed</source>
            <translation>已审核</translation>
        </message>
        <message>
            <source>not reviewed</source>
            <translation>未审核</translation>
        </message>
        <message>
            <source>none</source>
            <translation>无</translation>
        </message>
        <message>
            <source>Open Folder…</source>
            <translation>打开文件夹…</translation>
        </message>
        <message>
            <source>Show</source>
            <translation>显示</translation>
        </message>
        <message>
            <source>All images</source>
            <translation>全部图片</translation>
        </message>
        <message>
            <source>No caption</source>
            <translation>无说明</translation>
        </message>
        <message>
            <source>Failed</source>
            <translation>失败</translation>
        </message>
        <message>
            <source>Not reviewed</source>
            <translation>未审核</translation>
        </message>
        <message>
            <source>Contains… (/)</source>
            <translation>包含…（/）</translation>
        </message>
        <message>
            <source>Captions containing</source>
            <translation>说明中包含</translation>
        </message>
        <message>
            <source>Images and captions</source>
            <translation>图片和说明</translation>
        </message>
        <message>
            <source>Approve</source>
            <translation>通过</translation>
        </message>
        <message>
            <source>Mark the caption as reviewed and go to the next ({0})</source>
            <translation>将说明标记为已审核并转到下一张（{0}）</translation>
        </message>
        <message>
            <source>Edit</source>
            <translation>编辑</translation>
        </message>
        <message>
            <source>Edit the caption; Enter saves, Esc cancels ({0})</source>
            <translation>编辑说明；Enter 保存，Esc 取消（{0}）</translation>
        </message>
        <message>
            <source>Ask Again</source>
            <translation>重新提问</translation>
        </message>
        <message>
            <source>Open the image as a conversation ({0})</source>
            <translation>以对话方式打开图片（{0}）</translation>
        </message>
        <message>
            <source>Approve the caption</source>
            <translation>通过说明</translation>
        </message>
        <message>
            <source>Edit the caption</source>
            <translation>编辑说明</translation>
        </message>
        <message>
            <source>Ask again about the image</source>
            <translation>就这张图片重新提问</translation>
        </message>
        <message>
            <source>Filter by a word</source>
            <translation>按词语筛选</translation>
        </message>
    </context>
    <context>
        <name>FolderPathMessage</name>
        <message>
            <source>Folder</source>
            <translation>文件夹</translation>
        </message>
        <message>
            <source>No file manager could open the folder. It is here:</source>
            <translation>没有可以打开此文件夹的文件管理器。它位于：</translation>
        </message>
        <message>
            <source>Copy Path</source>
            <translation>复制路径</translation>
        </message>
    </context>
    <context>
        <name>GroundingController</name>
        <message>
            <source>Show Bo&amp;xes</source>
            <translation>显示框(&amp;X)</translation>
        </message>
        <message>
            <source>Draw the boxes found in the answer on the image</source>
            <translation>在图像上绘制回答中找到的框</translation>
        </message>
        <message>
            <source>Select Re&amp;gion</source>
            <translation>选择区域(&amp;G)</translation>
        </message>
        <message>
            <source>Drag a rectangle on the image to ask about it (or Shift+drag at any time)</source>
            <translation>在图像上拖出一个矩形来询问该区域（也可随时按住 Shift 拖动）</translation>
        </message>
        <message>
            <source>C&amp;lear Region</source>
            <translation>清除区域(&amp;L)</translation>
        </message>
        <message>
            <source>Export &amp;Boxes…</source>
            <translation>导出框(&amp;B)…</translation>
        </message>
        <message>
            <source>Save the boxes of the last answer as COCO JSON or YOLO labels</source>
            <translation>将最后一个回答中的框保存为 COCO JSON 或 YOLO 标签</translation>
        </message>
        <message>
            <source>Export Boxes</source>
            <translation>导出框</translation>
        </message>
        <message>
            <source>{0} and classes.txt</source>
            <translation>{0} 和 classes.txt</translation>
        </message>
        <message>
            <source>The boxes could not be saved: {0}</source>
            <translation>无法保存框：{0}</translation>
        </message>
        <message>
            <source>Saved {0}.</source>
            <translation>已保存 {0}。</translation>
        </message>
    </context>
    <context>
        <name>GroundingPanel</name>
        <message>
            <source>Selected region</source>
            <translation>所选区域</translation>
        </message>
        <message>
            <source>C&amp;lear Region</source>
            <translation>清除区域(&amp;L)</translation>
        </message>
        <message>
            <source>Ask about the whole image again</source>
            <translation>重新询问整张图像</translation>
        </message>
        <message>
            <source>Show bo&amp;xes</source>
            <translation>显示框(&amp;X)</translation>
        </message>
        <message>
            <source>Boxes in the answer</source>
            <translation>回答中的框</translation>
        </message>
        <message>
            <source>Select a box to highlight it on the image</source>
            <translation>选择一个框以在图像上突出显示</translation>
        </message>
        <message>
            <source>Questions are about the region {0}×{1} px at ({2}, {3}).</source>
            <translation>问题针对位于 ({2}, {3}) 的 {0}×{1} 像素区域。</translation>
        </message>
        <message>
            <source>Boxes in the answer: {0}</source>
            <translation>回答中的框：{0}</translation>
        </message>
        <message>
            <source>object</source>
            <translation>物体</translation>
        </message>
        <message>
            <source>{0} — {1}×{2} px at ({3}, {4})</source>
            <translation>{0} — {1}×{2} 像素，位于 ({3}, {4})</translation>
        </message>
        <message>
            <source>{0} — point at ({1}, {2})</source>
            <translation>{0} — 点位于 ({1}, {2})</translation>
        </message>
    </context>
    <context>
        <name>History</name>
        <message>
            <source>open</source>
            <translation>打开历史记录</translation>
        </message>
        <message>
            <source>start a conversation</source>
            <translation>开始对话</translation>
        </message>
        <message>
            <source>save the message</source>
            <translation>保存消息</translation>
        </message>
        <message>
            <source>save the answer</source>
            <translation>保存回答</translation>
        </message>
        <message>
            <source>delete the conversation</source>
            <translation>删除对话</translation>
        </message>
        <message>
            <source>read the history</source>
            <translation>读取历史记录</translation>
        </message>
        <message>
            <source>The history file {path} is damaged or is not a vldesk history; it was left as it is (move it away to start a new history).</source>
            <translation>历史记录文件 {path} 已损坏，或不是 vldesk 的历史记录；它保持原样（把它移走即可开始新的历史记录）。</translation>
        </message>
        <message>
            <source>The disk is full: could not save to the history ({path}).</source>
            <translation>磁盘已满：无法保存到历史记录（{path}）。</translation>
        </message>
        <message>
            <source>The history file {path} is read-only: could not {action}.</source>
            <translation>历史记录文件 {path} 是只读的：无法{action}。</translation>
        </message>
        <message>
            <source>The history is busy (another vldesk window?): could not {action}; try again.</source>
            <translation>历史记录正忙（另一个 vldesk 窗口？）：无法{action}；请重试。</translation>
        </message>
        <message>
            <source>Could not open the history file {path}.</source>
            <translation>无法打开历史记录文件 {path}。</translation>
        </message>
        <message>
            <source>Could not {action} in the history ({reason}).</source>
            <translation>无法在历史记录中{action}（{reason}）。</translation>
        </message>
    </context>
    <context>
        <name>HistoryListModel</name>
        <message>
            <source>pasted image</source>
            <translation>粘贴的图片</translation>
        </message>
        <message>
            <source>(no question)</source>
            <translation>（无问题）</translation>
        </message>
    </context>
    <context>
        <name>HistoryPanel</name>
        <message>
            <source>Search prompts and answers (Ctrl+F)</source>
            <translation>搜索问题和回答（Ctrl+F）</translation>
        </message>
        <message>
            <source>Search history</source>
            <translation>搜索历史记录</translation>
        </message>
        <message>
            <source>History entries</source>
            <translation>历史记录条目</translation>
        </message>
        <message>
            <source>No conversations yet.</source>
            <translation>还没有对话。</translation>
        </message>
        <message>
            <source>Open</source>
            <translation>打开</translation>
        </message>
        <message>
            <source>Open the selected conversation</source>
            <translation>打开选中的对话</translation>
        </message>
        <message>
            <source>Delete</source>
            <translation>删除</translation>
        </message>
        <message>
            <source>Delete the selected conversations (Del)</source>
            <translation>删除选中的对话（Del）</translation>
        </message>
        <message>
            <source>Delete the selected conversations</source>
            <translation>删除选中的对话</translation>
        </message>
        <message>
            <source>Export…</source>
            <translation>导出…</translation>
        </message>
        <message>
            <source>Export the selected conversations</source>
            <translation>导出选中的对话</translation>
        </message>
        <message>
            <source>Nothing matches this search.</source>
            <translation>没有匹配的结果。</translation>
        </message>
        <message>
            <source>No conversations yet. Answers are kept here.</source>
            <translation>还没有对话。回答会保存在这里。</translation>
        </message>
    </context>
    <context>
        <name>ImageInfoLabel</name>
        <message>
            <source>Copy</source>
            <translation>复制</translation>
        </message>
    </context>
    <context>
        <name>ImageViewer</name>
        <message>
            <source>Drop images or a folder here, paste an image (Ctrl+V) or open one (Ctrl+O).</source>
            <translation>将图片或文件夹拖放到这里，粘贴图片（Ctrl+V）或打开图片（Ctrl+O）。</translation>
        </message>
        <message>
            <source>Image</source>
            <translation>图片</translation>
        </message>
        <message>
            <source>Arrow keys scroll, Ctrl+plus and Ctrl+minus zoom, Ctrl+0 fits the window.</source>
            <translation>方向键滚动，Ctrl+加号和 Ctrl+减号缩放，Ctrl+0 适应窗口。</translation>
        </message>
    </context>
    <context>
        <name>Images</name>
        <message>
            <source>not enough memory to decode this image</source>
            <translation>内存不足，无法解码这张图片</translation>
        </message>
        <message>
            <source>{source}: {reason}</source>
            <translation>{source}：{reason}</translation>
        </message>
        <message>
            <source>pasted image</source>
            <translation>粘贴的图片</translation>
        </message>
        <message>
            <source>the file does not exist</source>
            <translation>文件不存在</translation>
        </message>
        <message>
            <source>this is a folder, not an image file</source>
            <translation>这是一个文件夹，不是图片文件</translation>
        </message>
        <message>
            <source>the file is empty</source>
            <translation>文件是空的</translation>
        </message>
        <message>
            <source>permission denied</source>
            <translation>没有权限</translation>
        </message>
        <message>
            <source>not an image, or an image format that cannot be read</source>
            <translation>不是图片，或是无法读取的图片格式</translation>
        </message>
        <message>
            <source>the image has no pixels</source>
            <translation>图片没有像素</translation>
        </message>
        <message>
            <source>the file cannot be read ({reason})</source>
            <translation>无法读取文件（{reason}）</translation>
        </message>
        <message>
            <source>the file is truncated (incomplete download?)</source>
            <translation>文件不完整（下载未完成？）</translation>
        </message>
        <message>
            <source>the image is corrupt ({reason})</source>
            <translation>图片已损坏（{reason}）</translation>
        </message>
        <message>
            <source>the image is too large to open safely (over {limit:.0f} megapixels)</source>
            <translation>图片太大，无法安全打开（超过 {limit:.0f} 百万像素）</translation>
        </message>
        <message>
            <source>the image is too large ({width}x{height}, {size:.0f} MP; limit {limit:.0f} megapixels)</source>
            <translation>图片太大（{width}x{height}，{size:.0f} 百万像素；上限 {limit:.0f} 百万像素）</translation>
        </message>
        <message>
            <source>the image is too long and thin ({width}x{height}); the aspect ratio must be below {ratio}:1</source>
            <translation>图片过于细长（{width}x{height}）；宽高比必须小于 {ratio}:1</translation>
        </message>
    </context>
    <context>
        <name>MainWindow</name>
        <message>
            <source>Image information</source>
            <translation>图片信息</translation>
        </message>
        <message>
            <source>Model loading</source>
            <translation>模型加载</translation>
        </message>
        <message>
            <source>History</source>
            <translation>历史记录</translation>
        </message>
        <message>
            <source>&amp;Open Image…</source>
            <translation>打开图片(&amp;O)…</translation>
        </message>
        <message>
            <source>Open an image file</source>
            <translation>打开图片文件</translation>
        </message>
        <message>
            <source>Open &amp;Folder…</source>
            <translation>打开文件夹(&amp;F)…</translation>
        </message>
        <message>
            <source>Review a folder's images and captions in the folder panel</source>
            <translation>在文件夹面板中审阅文件夹的图片和说明</translation>
        </message>
        <message>
            <source>&amp;Paste Image</source>
            <translation>粘贴图片(&amp;P)</translation>
        </message>
        <message>
            <source>Use the image on the clipboard</source>
            <translation>使用剪贴板中的图片</translation>
        </message>
        <message>
            <source>&amp;Next Image</source>
            <translation>下一张图片(&amp;N)</translation>
        </message>
        <message>
            <source>The next image in the folder</source>
            <translation>文件夹中的下一张图片</translation>
        </message>
        <message>
            <source>P&amp;revious Image</source>
            <translation>上一张图片(&amp;R)</translation>
        </message>
        <message>
            <source>The previous image in the folder</source>
            <translation>文件夹中的上一张图片</translation>
        </message>
        <message>
            <source>Export &amp;Answer…</source>
            <translation>导出回答(&amp;A)…</translation>
        </message>
        <message>
            <source>Save the last answer as .txt or .md</source>
            <translation>将最后的回答保存为 .txt 或 .md</translation>
        </message>
        <message>
            <source>&amp;Export Conversation…</source>
            <translation>导出对话(&amp;E)…</translation>
        </message>
        <message>
            <source>Save this conversation</source>
            <translation>保存此对话</translation>
        </message>
        <message>
            <source>Export &amp;History…</source>
            <translation>导出历史记录(&amp;H)…</translation>
        </message>
        <message>
            <source>Save every history entry to one file</source>
            <translation>将全部历史记录保存到一个文件</translation>
        </message>
        <message>
            <source>&amp;Describe Folder…</source>
            <translation>描述文件夹(&amp;D)…</translation>
        </message>
        <message>
            <source>Write a caption file for every image in a folder</source>
            <translation>为文件夹中的每张图片写一个描述文件</translation>
        </message>
        <message>
            <source>&amp;Settings…</source>
            <translation>设置(&amp;S)…</translation>
        </message>
        <message>
            <source>Change settings</source>
            <translation>更改设置</translation>
        </message>
        <message>
            <source>&amp;Quit</source>
            <translation>退出(&amp;Q)</translation>
        </message>
        <message>
            <source>&amp;Copy Answer</source>
            <translation>复制回答(&amp;C)</translation>
        </message>
        <message>
            <source>Copy the last answer as Markdown</source>
            <translation>以 Markdown 格式复制最后的回答</translation>
        </message>
        <message>
            <source>Copy C&amp;onversation</source>
            <translation>复制对话(&amp;O)</translation>
        </message>
        <message>
            <source>Copy the whole conversation as Markdown</source>
            <translation>以 Markdown 格式复制整个对话</translation>
        </message>
        <message>
            <source>&amp;New Conversation</source>
            <translation>新对话(&amp;N)</translation>
        </message>
        <message>
            <source>Start again about the same image</source>
            <translation>针对同一张图片重新开始</translation>
        </message>
        <message>
            <source>Ask a &amp;Question</source>
            <translation>提问(&amp;Q)</translation>
        </message>
        <message>
            <source>Zoom &amp;In</source>
            <translation>放大(&amp;I)</translation>
        </message>
        <message>
            <source>Zoom &amp;Out</source>
            <translation>缩小(&amp;O)</translation>
        </message>
        <message>
            <source>&amp;Fit to Window</source>
            <translation>适应窗口(&amp;F)</translation>
        </message>
        <message>
            <source>&amp;Actual Size (100%)</source>
            <translation>实际大小 (100%)(&amp;A)</translation>
        </message>
        <message>
            <source>&amp;History</source>
            <translation>历史记录(&amp;H)</translation>
        </message>
        <message>
            <source>&amp;Search History</source>
            <translation>搜索历史记录(&amp;S)</translation>
        </message>
        <message>
            <source>Open Model &amp;Folder…</source>
            <translation>打开模型文件夹(&amp;F)…</translation>
        </message>
        <message>
            <source>Use a model folder on this computer</source>
            <translation>使用本机上的模型文件夹</translation>
        </message>
        <message>
            <source>&amp;Reload Model</source>
            <translation>重新加载模型(&amp;R)</translation>
        </message>
        <message>
            <source>&amp;Unload Model</source>
            <translation>卸载模型(&amp;U)</translation>
        </message>
        <message>
            <source>Free the memory the model uses</source>
            <translation>释放模型占用的内存</translation>
        </message>
        <message>
            <source>&amp;Manage Models…</source>
            <translation>管理模型(&amp;M)…</translation>
        </message>
        <message>
            <source>Download, import, remove or choose a model</source>
            <translation>下载、导入、移除或选择模型</translation>
        </message>
        <message>
            <source>&amp;Connect to a Server…</source>
            <translation>连接到服务器(&amp;C)…</translation>
        </message>
        <message>
            <source>Chat with a model on an OpenAI-compatible server (vLLM, SGLang, vldesk serve…)</source>
            <translation>与兼容 OpenAI 的服务器上的模型对话（vLLM、SGLang、vldesk serve…）</translation>
        </message>
        <message>
            <source>&amp;Disconnect from the Server</source>
            <translation>断开服务器连接(&amp;D)</translation>
        </message>
        <message>
            <source>Back to the model on this computer</source>
            <translation>回到这台电脑上的模型</translation>
        </message>
        <message>
            <source>&amp;Serve on This Computer…</source>
            <translation>在本机提供服务(&amp;S)…</translation>
        </message>
        <message>
            <source>Let other programs and phones use the loaded model</source>
            <translation>让其他程序和手机使用已加载的模型</translation>
        </message>
        <message>
            <source>&amp;About vldesk</source>
            <translation>关于 vldesk(&amp;A)</translation>
        </message>
        <message>
            <source>Open &amp;Log Folder</source>
            <translation>打开日志文件夹(&amp;L)</translation>
        </message>
        <message>
            <source>Open &amp;Data Folder</source>
            <translation>打开数据文件夹(&amp;D)</translation>
        </message>
        <message>
            <source>Show where the history is kept</source>
            <translation>显示历史记录的存放位置</translation>
        </message>
        <message>
            <source>&amp;Keyboard Shortcuts</source>
            <translation>键盘快捷键(&amp;K)</translation>
        </message>
        <message>
            <source>Copy as Alt &amp;Text</source>
            <translation>复制为替代文本(&amp;T)</translation>
        </message>
        <message>
            <source>Copy the last answer as plain text</source>
            <translation>以纯文本复制最后的回答</translation>
        </message>
        <message>
            <source>&amp;File</source>
            <translation>文件(&amp;F)</translation>
        </message>
        <message>
            <source>Open &amp;Recent</source>
            <translation>最近打开(&amp;R)</translation>
        </message>
        <message>
            <source>&amp;Edit</source>
            <translation>编辑(&amp;E)</translation>
        </message>
        <message>
            <source>&amp;View</source>
            <translation>视图(&amp;V)</translation>
        </message>
        <message>
            <source>&amp;Model</source>
            <translation>模型(&amp;M)</translation>
        </message>
        <message>
            <source>&amp;Help</source>
            <translation>帮助(&amp;H)</translation>
        </message>
        <message>
            <source>Folder</source>
            <translation>文件夹</translation>
        </message>
        <message>
            <source>F&amp;older Panel</source>
            <translation>文件夹面板(&amp;O)</translation>
        </message>
        <message>
            <source>&amp;Regenerate Answer</source>
            <translation>重新生成回答(&amp;R)</translation>
        </message>
        <message>
            <source>Answer the last question again</source>
            <translation>重新回答最后一个问题</translation>
        </message>
        <message>
            <source>Edit &amp;Last Question</source>
            <translation>编辑最后一个问题(&amp;L)</translation>
        </message>
        <message>
            <source>Change the last question and ask it again</source>
            <translation>修改最后一个问题并重新提问</translation>
        </message>
        <message>
            <source>&amp;Save Caption to Photo</source>
            <translation>将说明保存到照片(&amp;S)</translation>
        </message>
        <message>
            <source>Write the selected text, or the last answer, into the photo's XMP description</source>
            <translation>将选中的文字（或最后一个回答）写入照片的 XMP 描述</translation>
        </message>
        <message>
            <source>Caption &amp;Goes Into</source>
            <translation>说明保存位置(&amp;G)</translation>
        </message>
        <message>
            <source>An XMP &amp;Sidecar (photo.jpg.xmp)</source>
            <translation>XMP 附属文件(&amp;S)（photo.jpg.xmp）</translation>
        </message>
        <message>
            <source>The &amp;Photo File Itself</source>
            <translation>照片文件本身(&amp;P)</translation>
        </message>
        <message>
            <source>No models installed</source>
            <translation>未安装模型</translation>
        </message>
    </context>
    <context>
        <name>MessageBanner</name>
        <message>
            <source>Message</source>
            <translation>消息</translation>
        </message>
        <message>
            <source>Dismiss</source>
            <translation>关闭</translation>
        </message>
        <message>
            <source>Dismiss the message</source>
            <translation>关闭此消息</translation>
        </message>
    </context>
    <context>
        <name>Metadata</name>
        <message>
            <source>{file}: the metadata cannot be read ({reason})</source>
            <translation>{file}：无法读取元数据（{reason}）</translation>
        </message>
        <message>
            <source>{file}: the metadata cannot be written ({reason})</source>
            <translation>{file}：无法写入元数据（{reason}）</translation>
        </message>
        <message>
            <source>{file}: the file cannot be read ({reason})</source>
            <translation>{file}：无法读取文件（{reason}）</translation>
        </message>
        <message>
            <source>{file}: the photo does not exist, so it gets no sidecar</source>
            <translation>{file}：照片不存在，因此不写附属文件</translation>
        </message>
        <message>
            <source>{file}: there is no caption written by vldesk to mark as reviewed</source>
            <translation>{file}：没有 vldesk 写入的说明可标记为已审核</translation>
        </message>
    </context>
    <context>
        <name>ModelDialog</name>
        <message>
            <source>{done} of {total}</source>
            <translation>{done} / {total}</translation>
        </message>
        <message>
            <source>{time} left</source>
            <translation>剩余 {time}</translation>
        </message>
        <message>
            <source>Models</source>
            <translation>模型</translation>
        </message>
        <message>
            <source>No model is installed yet. Choose one to download (once; afterwards everything runs offline), or import a model folder you already have.</source>
            <translation>尚未安装任何模型。请选择一个下载（只需一次，之后一切离线运行），或导入已有的模型文件夹。</translation>
        </message>
        <message>
            <source>Download, import or choose the model vldesk answers with.</source>
            <translation>下载、导入或选择 vldesk 用来回答的模型。</translation>
        </message>
        <message>
            <source>Available models</source>
            <translation>可用模型</translation>
        </message>
        <message>
            <source>Download progress</source>
            <translation>下载进度</translation>
        </message>
        <message>
            <source>&amp;Download</source>
            <translation>下载(&amp;D)</translation>
        </message>
        <message>
            <source>&amp;Cancel download</source>
            <translation>取消下载(&amp;C)</translation>
        </message>
        <message>
            <source>&amp;Remove…</source>
            <translation>移除(&amp;R)…</translation>
        </message>
        <message>
            <source>&amp;Import folder…</source>
            <translation>导入文件夹(&amp;I)…</translation>
        </message>
        <message>
            <source>&amp;Use this model</source>
            <translation>使用此模型(&amp;U)</translation>
        </message>
        <message>
            <source>Close</source>
            <translation>关闭</translation>
        </message>
        <message>
            <source>Resume &amp;download</source>
            <translation>继续下载(&amp;D)</translation>
        </message>
        <message>
            <source>Folder: {path}</source>
            <translation>文件夹：{path}</translation>
        </message>
        <message>
            <source>Model may not fit</source>
            <translation>模型可能装不下</translation>
        </message>
        <message>
            <source>{hint}

Download it anyway?</source>
            <translation>{hint}

仍要下载吗？</translation>
        </message>
        <message>
            <source>Connecting to ModelScope…</source>
            <translation>正在连接 ModelScope…</translation>
        </message>
        <message>
            <source>Forget the imported model “{name}”? Its folder is not deleted.</source>
            <translation>要移除导入的模型“{name}”吗？其文件夹不会被删除。</translation>
        </message>
        <message>
            <source>Delete {name} ({size}) from this computer?</source>
            <translation>要从本机删除 {name}（{size}）吗？</translation>
        </message>
        <message>
            <source>Remove model</source>
            <translation>移除模型</translation>
        </message>
        <message>
            <source>Import a model folder</source>
            <translation>导入模型文件夹</translation>
        </message>
        <message>
            <source>Import model</source>
            <translation>导入模型</translation>
        </message>
        <message>
            <source>{model} is ready.</source>
            <translation>{model} 已就绪。</translation>
        </message>
        <message>
            <source>Download stopped. What was downloaded is kept: Resume continues it.</source>
            <translation>下载已停止。已下载的部分会保留，点击“继续下载”即可接着下载。</translation>
        </message>
    </context>
    <context>
        <name>ModelFolder</name>
        <message>
            <source>{what} cannot be used: {reason}</source>
            <translation>{what} 无法使用：{reason}</translation>
        </message>
        <message>
            <source>The folder {path}</source>
            <translation>文件夹 {path}</translation>
        </message>
        <message>
            <source>It has only PyTorch .bin/.pt weights; vldesk loads .safetensors weights only (get the safetensors version of the model).</source>
            <translation>其中只有 PyTorch .bin/.pt 权重；vldesk 只加载 .safetensors 权重（请获取该模型的 safetensors 版本）。</translation>
        </message>
        <message>
            <source>The .safetensors weights are still being downloaded.</source>
            <translation>.safetensors 权重仍在下载中。</translation>
        </message>
        <message>
            <source>There are no .safetensors weights in it.</source>
            <translation>其中没有 .safetensors 权重。</translation>
        </message>
        <message>
            <source>The tokenizer is missing (tokenizer.json, or vocab.json and merges.txt).</source>
            <translation>缺少分词器（tokenizer.json，或 vocab.json 和 merges.txt）。</translation>
        </message>
        <message>
            <source>The image processor settings are missing ({file}, or an image_processor entry in {processor}).</source>
            <translation>缺少图像处理器设置（{file}，或 {processor} 中的 image_processor 项）。</translation>
        </message>
        <message>
            <source>{file} cannot be read (it is not a JSON object).</source>
            <translation>无法读取 {file}（它不是 JSON 对象）。</translation>
        </message>
        <message>
            <source>There is no config.json, so it is not a Hugging Face or ModelScope model.</source>
            <translation>没有 config.json，所以它不是 Hugging Face 或 ModelScope 模型。</translation>
        </message>
        <message>
            <source>Its config.json cannot be read.</source>
            <translation>无法读取其中的 config.json。</translation>
        </message>
        <message>
            <source>There is no chat template (chat_template.jinja, chat_template.json, or a chat_template entry in tokenizer_config.json or processor_config.json).</source>
            <translation>没有对话模板（chat_template.jinja、chat_template.json，或 tokenizer_config.json / processor_config.json 中的 chat_template 项）。</translation>
        </message>
        <message>
            <source>The GGUF file {file} is incomplete: {reason}.</source>
            <translation>GGUF 文件 {file} 不完整：{reason}。</translation>
        </message>
        <message>
            <source>The GGUF file {file} is not usable: {reason}.</source>
            <translation>GGUF 文件 {file} 无法使用：{reason}。</translation>
        </message>
        <message>
            <source>The GGUF file {file} cannot be read ({reason}).</source>
            <translation>无法读取 GGUF 文件 {file}（{reason}）。</translation>
        </message>
        <message>
            <source>The GGUF file {file} is incomplete: it has {size:,} bytes where its header says {expected:,} (the download may have stopped part-way).</source>
            <translation>GGUF 文件 {file} 不完整：文件有 {size:,} 字节，而文件头写明 {expected:,} 字节（下载可能中途停止了）。</translation>
        </message>
        <message>
            <source>The GGUF file {file} is damaged: it has {size:,} bytes where its header says {expected:,}.</source>
            <translation>GGUF 文件 {file} 已损坏：文件有 {size:,} 字节，而文件头写明 {expected:,} 字节。</translation>
        </message>
        <message>
            <source>{file} is not a vision projector.</source>
            <translation>{file} 不是视觉投影器。</translation>
        </message>
        <message>
            <source>it is a {kind} projector and the model is {family}</source>
            <translation>它是 {kind} 投影器，而模型是 {family}</translation>
        </message>
        <message>
            <source>it gives {width}-wide image features where the model takes {wanted}</source>
            <translation>它输出 {width} 维的图像特征，而模型需要 {wanted} 维</translation>
        </message>
        <message>
            <source>The vision projector {file} does not belong to the model {model}: {detail}. Download the projector from the model's own repository.</source>
            <translation>视觉投影器 {file} 不属于模型 {model}：{detail}。请从该模型自己的仓库下载投影器。</translation>
        </message>
        <message>
            <source>The GGUF model is still being downloaded.</source>
            <translation>GGUF 模型仍在下载中。</translation>
        </message>
        <message>
            <source>There is no GGUF model file in it (only a vision projector).</source>
            <translation>其中没有 GGUF 模型文件（只有视觉投影器）。</translation>
        </message>
        <message>
            <source>There is no vision projector (an mmproj*.gguf file): vldesk needs it to read images. Download it from the same repository as the model.</source>
            <translation>没有视觉投影器（mmproj*.gguf 文件）：vldesk 需要它来读取图片。请从模型所在的同一仓库下载。</translation>
        </message>
        <message>
            <source>{file} is a '{architecture}' model; vldesk runs Qwen2.5-VL, Qwen3-VL and Qwen3.5 models.</source>
            <translation>{file} 是“{architecture}”模型；vldesk 运行 Qwen2.5-VL、Qwen3-VL 和 Qwen3.5 模型。</translation>
        </message>
        <message>
            <source>The imported model '{name}' ({path})</source>
            <translation>导入的模型“{name}”（{path}）</translation>
        </message>
    </context>
    <context>
        <name>ModelStore</name>
        <message>
            <source>'{name}' cannot be a model name: use a short name without slashes.</source>
            <translation>“{name}”不能作为模型名称：请使用不含斜杠的简短名称。</translation>
        </message>
        <message>
            <source>The name '{name}' is already used for {path}; choose another name or remove that one first.</source>
            <translation>名称“{name}”已用于 {path}；请换一个名称，或先移除那个模型。</translation>
        </message>
        <message>
            <source>No model was given: pass a catalog id, a name or a folder.</source>
            <translation>没有指定模型：请给出目录中的 ID、名称或文件夹。</translation>
        </message>
        <message>
            <source>`vldesk models download {model}` or the Models window in the app</source>
            <translation>`vldesk models download {model}` 或应用中的“模型”窗口</translation>
        </message>
        <message>
            <source>{model} is only partly downloaded; finish the download with {how}.</source>
            <translation>{model} 只下载了一部分；请用 {how} 完成下载。</translation>
        </message>
        <message>
            <source>{model} is damaged ({problem}); repair it with {how}.</source>
            <translation>{model} 已损坏（{problem}）；请用 {how} 修复。</translation>
        </message>
        <message>
            <source>{model} is not downloaded yet; download it with {how}.</source>
            <translation>{model} 尚未下载；请用 {how} 下载。</translation>
        </message>
        <message>
            <source>{path} is a file, not a model folder.</source>
            <translation>{path} 是文件，不是模型文件夹。</translation>
        </message>
        <message>
            <source>No model called '{name}': it is not a catalog id, an imported model or a folder. See `vldesk models list`, then `vldesk models download ID`, or add a folder you already have with `vldesk models import FOLDER`.</source>
            <translation>没有名为“{name}”的模型：它既不是目录中的 ID，也不是导入的模型或文件夹。请查看 `vldesk models list`，然后运行 `vldesk models download ID`，或用 `vldesk models import FOLDER` 添加已有的文件夹。</translation>
        </message>
        <message>
            <source>{model} is not downloaded, so there is nothing to remove.</source>
            <translation>{model} 尚未下载，没有可移除的内容。</translation>
        </message>
        <message>
            <source>Could not delete {folder}: {reason}. Close any program using the model and try again.</source>
            <translation>无法删除 {folder}：{reason}。请关闭正在使用该模型的程序后重试。</translation>
        </message>
        <message>
            <source>No downloaded or imported model called '{name}'; see `vldesk models list`.</source>
            <translation>没有名为“{name}”的已下载或已导入模型；请查看 `vldesk models list`。</translation>
        </message>
    </context>
    <context>
        <name>PhotoOutputsBox</name>
        <message>
            <source>Photo metadata and boxes</source>
            <translation>照片元数据和框</translation>
        </message>
        <message>
            <source>Write to photo metadata</source>
            <translation>写入照片元数据</translation>
        </message>
        <message>
            <source>Off</source>
            <translation>关闭</translation>
        </message>
        <message>
            <source>XMP sidecar (photo.jpg.xmp)</source>
            <translation>XMP 附属文件（photo.jpg.xmp）</translation>
        </message>
        <message>
            <source>Embedded in the photo</source>
            <translation>嵌入照片中</translation>
        </message>
        <message>
            <source>The caption goes into the photo's description with the model, prompt and date, marked as machine-made (digiKam, darktable, Lightroom read it).</source>
            <translation>说明文字连同模型、提示词和日期写入照片的描述，并标记为机器生成（digiKam、darktable、Lightroom 可读取）。</translation>
        </message>
        <message>
            <source>Repla&amp;ce a description a person wrote</source>
            <translation>替换由人撰写的描述(&amp;C)</translation>
        </message>
        <message>
            <source>Off: photos that already have a description by a person are left alone and listed.</source>
            <translation>关闭时：已有人工撰写描述的照片保持不变，并在最后列出。</translation>
        </message>
        <message>
            <source>Export boxes</source>
            <translation>导出框</translation>
        </message>
        <message>
            <source>None</source>
            <translation>不导出</translation>
        </message>
        <message>
            <source>COCO JSON ({0})</source>
            <translation>COCO JSON（{0}）</translation>
        </message>
        <message>
            <source>YOLO labels ({0}/)</source>
            <translation>YOLO 标签（{0}/）</translation>
        </message>
        <message>
            <source>The boxes in the answers (e.g. the Find objects preset), in the photos' pixels.</source>
            <translation>回答中的框（例如“查找物体”预设），以照片的像素为单位。</translation>
        </message>
        <message>
            <source>Write to photo &amp;metadata:</source>
            <translation>写入照片元数据(&amp;M)：</translation>
        </message>
        <message>
            <source>Sa&amp;ve boxes as:</source>
            <translation>框的保存格式(&amp;V)：</translation>
        </message>
    </context>
    <context>
        <name>PromptPanel</name>
        <message>
            <source>Ask about the image… (Enter sends, Shift+Enter adds a line)</source>
            <translation>询问这张图片…（Enter 发送，Shift+Enter 换行）</translation>
        </message>
        <message>
            <source>Question</source>
            <translation>问题</translation>
        </message>
        <message>
            <source>System prompt</source>
            <translation>系统提示词</translation>
        </message>
        <message>
            <source>Show the system prompt</source>
            <translation>显示系统提示词</translation>
        </message>
        <message>
            <source>Optional instructions for every answer, e.g. “Answer in French.”</source>
            <translation>可选，对每次回答都有效的指示，例如“用法语回答。”</translation>
        </message>
        <message>
            <source>Send</source>
            <translation>发送</translation>
        </message>
        <message>
            <source>Ask the question (Enter)</source>
            <translation>提出问题（Enter）</translation>
        </message>
        <message>
            <source>Send the question</source>
            <translation>发送问题</translation>
        </message>
        <message>
            <source>Stop</source>
            <translation>停止</translation>
        </message>
        <message>
            <source>Stop the answer (Esc)</source>
            <translation>停止回答（Esc）</translation>
        </message>
        <message>
            <source>Stop the answer</source>
            <translation>停止回答</translation>
        </message>
        <message>
            <source>Presets start a new conversation</source>
            <translation>预设开始新对话</translation>
        </message>
        <message>
            <source>On: a preset asks about the image afresh. Off: it continues the conversation, like a typed question.</source>
            <translation>开启：预设会重新就这张图片提问。关闭：预设像输入的问题一样接着当前对话。</translation>
        </message>
        <message>
            <source>Cancel Edit</source>
            <translation>取消编辑</translation>
        </message>
        <message>
            <source>Cancel changing the question</source>
            <translation>取消修改问题</translation>
        </message>
        <message>
            <source>Starts a conversation about this image.</source>
            <translation>开始关于这张图片的对话。</translation>
        </message>
        <message>
            <source>Starts a new conversation about this image.</source>
            <translation>开始关于这张图片的新对话。</translation>
        </message>
        <message>
            <source>Continues this conversation.</source>
            <translation>接着当前对话。</translation>
        </message>
        <message>
            <source>Changing question {0}: Send asks it again and replaces its answer and everything after it.</source>
            <translation>正在修改第 {0} 个问题：发送后会重新提问，并替换它的回答及之后的全部内容。</translation>
        </message>
    </context>
    <context>
        <name>QAbstractFileIconProvider</name>
        <message>
            <source>Folder</source>
            <translation>文件夹</translation>
        </message>
        <message>
            <source>File</source>
            <translation>文件</translation>
        </message>
        <message>
            <source>Drive</source>
            <translation>驱动器</translation>
        </message>
        <message>
            <source>Computer</source>
            <translation>计算机</translation>
        </message>
        <message>
            <source>Shortcut</source>
            <translation>快捷方式</translation>
        </message>
        <message>
            <source>Unknown</source>
            <translation>未知</translation>
        </message>
    </context>
    <context>
        <name>QFileDialog</name>
        <message>
            <source>&amp;Look in:</source>
            <translation>查找范围(&amp;L)：</translation>
        </message>
        <message>
            <source>Files of &amp;type:</source>
            <translation>文件类型(&amp;T)：</translation>
        </message>
    </context>
    <context>
        <name>RunOnBox</name>
        <message>
            <source>Run on</source>
            <translation>运行位置</translation>
        </message>
        <message>
            <source>&amp;This computer ({0})</source>
            <translation>这台电脑(&amp;T)（{0}）</translation>
        </message>
        <message>
            <source>&amp;This computer (no model is loaded)</source>
            <translation>这台电脑(&amp;T)（未加载模型）</translation>
        </message>
        <message>
            <source>Ser&amp;vers (OpenAI-compatible):</source>
            <translation>服务器(&amp;V)（兼容 OpenAI）：</translation>
        </message>
        <message>
            <source>Server addresses, one per line</source>
            <translation>服务器地址，每行一个</translation>
        </message>
        <message>
            <source>API key</source>
            <translation>API 密钥</translation>
        </message>
        <message>
            <source>From {0}</source>
            <translation>来自 {0}</translation>
        </message>
        <message>
            <source>Optional</source>
            <translation>可选</translation>
        </message>
        <message>
            <source>Auto</source>
            <translation>自动</translation>
        </message>
        <message>
            <source>Requests in flight per server</source>
            <translation>每台服务器同时处理的请求数</translation>
        </message>
        <message>
            <source>Auto measures each server with a few tiny requests, then adapts: fewer while a server says it is busy or slows down, more while it keeps up.</source>
            <translation>“自动”会先用几个很小的请求测量每台服务器，然后自动调整：服务器繁忙或变慢时减少，跟得上时增加。</translation>
        </message>
        <message>
            <source>C&amp;heck Servers</source>
            <translation>检查服务器(&amp;H)</translation>
        </message>
        <message>
            <source>Served model</source>
            <translation>服务器上的模型</translation>
        </message>
        <message>
            <source>Server status</source>
            <translation>服务器状态</translation>
        </message>
        <message>
            <source>Addresses:</source>
            <translation>地址：</translation>
        </message>
        <message>
            <source>In flight per server:</source>
            <translation>每台服务器并发：</translation>
        </message>
        <message>
            <source>API key:</source>
            <translation>API 密钥：</translation>
        </message>
        <message>
            <source>Model:</source>
            <translation>模型：</translation>
        </message>
        <message>
            <source>Enter at least one server address.</source>
            <translation>请至少输入一个服务器地址。</translation>
        </message>
        <message>
            <source>⚠ Plain http:// to another computer ({0}): the images and any API key cross the network unencrypted; use https:// or an SSH tunnel.</source>
            <translation>⚠ 以明文 http:// 连接另一台电脑（{0}）：图片和 API 密钥将未加密地经过网络；请使用 https:// 或 SSH 隧道。</translation>
        </message>
        <message>
            <source>Asking the servers for their models…</source>
            <translation>正在向服务器查询模型…</translation>
        </message>
        <message>
            <source>{0}: {1}</source>
            <translation>{0}：{1}</translation>
        </message>
        <message>
            <source>The servers serve no model in common.</source>
            <translation>这些服务器没有共同提供的模型。</translation>
        </message>
    </context>
    <context>
        <name>ServeController</name>
        <message>
            <source>Serving status</source>
            <translation>服务状态</translation>
        </message>
        <message>
            <source>Listening on {0} lets other computers use the model: set an API key first (Generate makes one).</source>
            <translation>在 {0} 上监听会让其他电脑使用此模型：请先设置 API 密钥（点“生成”即可创建）。</translation>
        </message>
        <message>
            <source>Cannot listen on {0}:{1}: {2}</source>
            <translation>无法在 {0}:{1} 上监听：{2}</translation>
        </message>
        <message>
            <source>The server did not start: {0}</source>
            <translation>服务器未能启动：{0}</translation>
        </message>
        <message>
            <source>Serving</source>
            <translation>服务中</translation>
        </message>
        <message>
            <source>Serving · {0} in flight</source>
            <translation>服务中 · {0} 个请求处理中</translation>
        </message>
        <message>
            <source>Serving the model at {0}</source>
            <translation>正在 {0} 提供模型服务</translation>
        </message>
    </context>
    <context>
        <name>ServeDialog</name>
        <message>
            <source>Serve on This Computer</source>
            <translation>在本机提供服务</translation>
        </message>
        <message>
            <source>Other programs (OpenAI or Ollama clients) and a web browser can use the model loaded in vldesk. Their questions take turns with yours.</source>
            <translation>其他程序（OpenAI 或 Ollama 客户端）和网页浏览器可以使用 vldesk 中已加载的模型。它们的提问与您的提问轮流处理。</translation>
        </message>
        <message>
            <source>Address to listen on</source>
            <translation>监听地址</translation>
        </message>
        <message>
            <source>Any free port</source>
            <translation>任意空闲端口</translation>
        </message>
        <message>
            <source>Port</source>
            <translation>端口</translation>
        </message>
        <message>
            <source>API key</source>
            <translation>API 密钥</translation>
        </message>
        <message>
            <source>Needed for any address but 127.0.0.1</source>
            <translation>除 127.0.0.1 外的任何地址都需要</translation>
        </message>
        <message>
            <source>&amp;Generate</source>
            <translation>生成(&amp;G)</translation>
        </message>
        <message>
            <source>Make a new random key</source>
            <translation>生成新的随机密钥</translation>
        </message>
        <message>
            <source>Copy &amp;Key</source>
            <translation>复制密钥(&amp;K)</translation>
        </message>
        <message>
            <source>&amp;Address:</source>
            <translation>地址(&amp;A)：</translation>
        </message>
        <message>
            <source>&amp;Port:</source>
            <translation>端口(&amp;P)：</translation>
        </message>
        <message>
            <source>API &amp;key:</source>
            <translation>API 密钥(&amp;K)：</translation>
        </message>
        <message>
            <source>&amp;Start</source>
            <translation>启动(&amp;S)</translation>
        </message>
        <message>
            <source>Copy A&amp;ddress</source>
            <translation>复制地址(&amp;D)</translation>
        </message>
        <message>
            <source>Only programs on this computer can connect.</source>
            <translation>只有本机上的程序可以连接。</translation>
        </message>
        <message>
            <source>Other computers and phones on your network can connect: they need the API key.</source>
            <translation>同一网络中的其他电脑和手机可以连接：它们需要 API 密钥。</translation>
        </message>
        <message>
            <source>S&amp;top</source>
            <translation>停止(&amp;T)</translation>
        </message>
        <message>
            <source>Serving at {0}</source>
            <translation>服务地址：{0}</translation>
        </message>
        <message>
            <source>OpenAI API: {0}  ·  Ollama API: {1}</source>
            <translation>OpenAI API：{0}  ·  Ollama API：{1}</translation>
        </message>
        <message>
            <source>On a phone or another computer on this network, open {0}</source>
            <translation>在同一网络中的手机或其他电脑上打开 {0}</translation>
        </message>
        <message>
            <source>Clients send the key as “Authorization: Bearer &lt;key&gt;”.</source>
            <translation>客户端以“Authorization: Bearer &lt;key&gt;”发送密钥。</translation>
        </message>
        <message>
            <source>Not serving.</source>
            <translation>未在提供服务。</translation>
        </message>
    </context>
    <context>
        <name>Servers</name>
        <message>
            <source>The server address is not valid: check its port (a number up to 65535) and the square brackets around an IPv6 address.</source>
            <translation>服务器地址无效：请检查端口（不超过 65535 的数字）以及 IPv6 地址两侧的方括号。</translation>
        </message>
        <message>
            <source>'{address}' is not an http:// or https:// URL.</source>
            <translation>“{address}”不是 http:// 或 https:// 地址。</translation>
        </message>
    </context>
    <context>
        <name>SettingsDialog</name>
        <message>
            <source>Settings</source>
            <translation>设置</translation>
        </message>
        <message>
            <source>Model</source>
            <translation>模型</translation>
        </message>
        <message>
            <source>Device</source>
            <translation>设备</translation>
        </message>
        <message>
            <source>Precision</source>
            <translation>精度</translation>
        </message>
        <message>
            <source>Weights on the CPU</source>
            <translation>CPU 上的权重</translation>
        </message>
        <message>
            <source>Full (most accurate)</source>
            <translation>完整（最准确）</translation>
        </message>
        <message>
            <source>int8 (faster answers, slightly less accurate)</source>
            <translation>int8（回答更快，准确度略低）</translation>
        </message>
        <message>
            <source>int4 (fastest answers, least accurate)</source>
            <translation>int4（回答最快，准确度最低）</translation>
        </message>
        <message>
            <source>Stores the language model's weights in 8 or 4 bits on the CPU, so each new word needs fewer memory reads, at some cost in accuracy. GPUs ignore this setting.</source>
            <translation>在 CPU 上以 8 位或 4 位保存语言模型的权重，每生成一个词所需的内存读取更少，但准确度会有所下降。GPU 会忽略此设置。</translation>
        </message>
        <message>
            <source>Engine</source>
            <translation>推理引擎</translation>
        </message>
        <message>
            <source>Automatic (the faster one on this CPU)</source>
            <translation>自动（本机 CPU 上更快的那个）</translation>
        </message>
        <message>
            <source>transformers (safetensors models)</source>
            <translation>transformers（safetensors 模型）</translation>
        </message>
        <message>
            <source>llama.cpp (GGUF models, CPU)</source>
            <translation>llama.cpp（GGUF 模型，CPU）</translation>
        </message>
        <message>
            <source>Automatic runs a model's downloaded GGUF version on llama.cpp where that is faster: on a CPU without AMX or AVX512-BF16, when llama.cpp is installed.</source>
            <translation>“自动”会在更快的情况下用 llama.cpp 运行已下载的 GGUF 版本：即 CPU 没有 AMX 或 AVX512-BF16 且已安装 llama.cpp 时。</translation>
        </message>
        <message>
            <source>Maximum new tokens</source>
            <translation>最大新 token 数</translation>
        </message>
        <message>
            <source>Greedy decoding (the same answer every time)</source>
            <translation>贪心解码（每次回答相同）</translation>
        </message>
        <message>
            <source>Temperature</source>
            <translation>温度</translation>
        </message>
        <message>
            <source>Top-p</source>
            <translation>Top-p 采样</translation>
        </message>
        <message>
            <source>Top-k</source>
            <translation>Top-k 采样</translation>
        </message>
        <message>
            <source>Repetition penalty</source>
            <translation>重复惩罚</translation>
        </message>
        <message>
            <source>Use the model's &amp;values</source>
            <translation>使用模型推荐的值(&amp;V)</translation>
        </message>
        <message>
            <source>Image token budget</source>
            <translation>图像 token 预算</translation>
        </message>
        <message>
            <source>More tokens keep more detail (small text) but answer more slowly.</source>
            <translation>token 越多，保留的细节（如小字）越多，但回答越慢。</translation>
        </message>
        <message>
            <source>Language of the presets</source>
            <translation>预设语言</translation>
        </message>
        <message>
            <source>Interface language</source>
            <translation>界面语言</translation>
        </message>
        <message>
            <source>Automatic (system language)</source>
            <translation>自动（跟随系统语言）</translation>
        </message>
        <message>
            <source>&amp;Model:</source>
            <translation>模型(&amp;M)：</translation>
        </message>
        <message>
            <source>&amp;Device:</source>
            <translation>设备(&amp;D)：</translation>
        </message>
        <message>
            <source>&amp;Precision:</source>
            <translation>精度(&amp;P)：</translation>
        </message>
        <message>
            <source>&amp;Weights on the CPU:</source>
            <translation>CPU 上的权重(&amp;W)：</translation>
        </message>
        <message>
            <source>&amp;Engine:</source>
            <translation>推理引擎(&amp;E)：</translation>
        </message>
        <message>
            <source>Answers</source>
            <translation>回答</translation>
        </message>
        <message>
            <source>Max new &amp;tokens:</source>
            <translation>最大新 token 数(&amp;T)：</translation>
        </message>
        <message>
            <source>T&amp;emperature:</source>
            <translation>温度(&amp;E)：</translation>
        </message>
        <message>
            <source>Top-&amp;p:</source>
            <translation>Top-p 采样(&amp;P)：</translation>
        </message>
        <message>
            <source>Top-&amp;k:</source>
            <translation>Top-k 采样(&amp;K)：</translation>
        </message>
        <message>
            <source>&amp;Repetition penalty:</source>
            <translation>重复惩罚(&amp;R)：</translation>
        </message>
        <message>
            <source>&amp;Image token budget:</source>
            <translation>图像 token 预算(&amp;I)：</translation>
        </message>
        <message>
            <source>Preset &amp;language:</source>
            <translation>预设语言(&amp;L)：</translation>
        </message>
        <message>
            <source>Interface</source>
            <translation>界面</translation>
        </message>
        <message>
            <source>Interf&amp;ace language:</source>
            <translation>界面语言(&amp;A)：</translation>
        </message>
        <message>
            <source>Applied when vldesk starts again; it offers to restart now.</source>
            <translation>在 vldesk 重新启动后生效；确定后可立即重启。</translation>
        </message>
        <message>
            <source>Colours</source>
            <translation>配色</translation>
        </message>
        <message>
            <source>As the system</source>
            <translation>跟随系统</translation>
        </message>
        <message>
            <source>Light</source>
            <translation>浅色</translation>
        </message>
        <message>
            <source>Dark</source>
            <translation>深色</translation>
        </message>
        <message>
            <source>C&amp;olours:</source>
            <translation>配色(&amp;O)：</translation>
        </message>
        <message>
            <source>Font size</source>
            <translation>字号</translation>
        </message>
        <message>
            <source> pt</source>
            <translation> 磅</translation>
        </message>
        <message>
            <source>Font si&amp;ze:</source>
            <translation>字号(&amp;Z)：</translation>
        </message>
        <message>
            <source>Models folder</source>
            <translation>模型文件夹</translation>
        </message>
        <message>
            <source>Models &amp;folder:</source>
            <translation>模型文件夹(&amp;F)：</translation>
        </message>
        <message>
            <source>Recommended by the model: temperature {0}, top-p {1}, top-k {2}, repetition penalty {3}.</source>
            <translation>模型推荐：温度 {0}，top-p {1}，top-k {2}，重复惩罚 {3}。</translation>
        </message>
    </context>
    <context>
        <name>ShortcutsDialog</name>
        <message>
            <source>{0} in the folder panel</source>
            <translation>在文件夹面板中按 {0}</translation>
        </message>
        <message>
            <source>Next or previous image in the folder panel</source>
            <translation>文件夹面板中的下一张或上一张图片</translation>
        </message>
        <message>
            <source>Approve the caption and go to the next</source>
            <translation>通过说明并转到下一张</translation>
        </message>
        <message>
            <source>Edit the caption</source>
            <translation>编辑说明</translation>
        </message>
        <message>
            <source>Save the edited caption</source>
            <translation>保存编辑后的说明</translation>
        </message>
        <message>
            <source>Cancel the edit</source>
            <translation>取消编辑</translation>
        </message>
        <message>
            <source>Ask again about the image</source>
            <translation>就这张图片重新提问</translation>
        </message>
        <message>
            <source>Filter the captions by a word</source>
            <translation>按词语筛选说明</translation>
        </message>
        <message>
            <source>Keyboard Shortcuts</source>
            <translation>键盘快捷键</translation>
        </message>
        <message>
            <source>Send the question</source>
            <translation>发送问题</translation>
        </message>
        <message>
            <source>New line in the question</source>
            <translation>在问题中换行</translation>
        </message>
        <message>
            <source>Stop the answer</source>
            <translation>停止回答</translation>
        </message>
        <message>
            <source>Ask with preset 1 to 9</source>
            <translation>使用第 1 到 9 个预设提问</translation>
        </message>
        <message>
            <source>Delete the selected history entries</source>
            <translation>删除选中的历史记录</translation>
        </message>
        <message>
            <source>{0} in the history</source>
            <translation>{0}（在历史记录列表中）</translation>
        </message>
        <message>
            <source>Move to the next or previous control</source>
            <translation>移到下一个或上一个控件</translation>
        </message>
        <message>
            <source>Open a menu</source>
            <translation>打开菜单</translation>
        </message>
        <message>
            <source>Alt+underlined letter, or {0}</source>
            <translation>Alt+带下划线的字母，或 {0}</translation>
        </message>
        <message>
            <source>Everything in vldesk works from the keyboard:</source>
            <translation>vldesk 的所有功能都可以用键盘操作：</translation>
        </message>
        <message>
            <source>Command</source>
            <translation>命令</translation>
        </message>
        <message>
            <source>Keys</source>
            <translation>按键</translation>
        </message>
        <message>
            <source>Keyboard shortcuts</source>
            <translation>键盘快捷键</translation>
        </message>
    </context>
    <context>
        <name>StatusPanel</name>
        <message>
            <source>Model</source>
            <translation>模型</translation>
        </message>
        <message>
            <source>Device and precision</source>
            <translation>设备和精度</translation>
        </message>
        <message>
            <source>Image tokens</source>
            <translation>图像 token</translation>
        </message>
        <message>
            <source>Time to first token</source>
            <translation>首个 token 用时</translation>
        </message>
        <message>
            <source>Tokens per second</source>
            <translation>每秒 token 数</translation>
        </message>
        <message>
            <source>Memory in use</source>
            <translation>占用内存</translation>
        </message>
        <message>
            <source>No model loaded</source>
            <translation>未加载模型</translation>
        </message>
        <message>
            <source>{0}: {1}</source>
            <translation>{0}：{1}</translation>
        </message>
        <message>
            <source>Loading {0}…</source>
            <translation>正在加载 {0}…</translation>
        </message>
        <message>
            <source>{0} image tokens</source>
            <translation>{0} 个图像 token</translation>
        </message>
        <message>
            <source>first token {0:.2f} s</source>
            <translation>首个 token {0:.2f} 秒</translation>
        </message>
        <message>
            <source>A follow-up: {0} tokens of the conversation, the image among them, were continued from the previous answer instead of being read again.</source>
            <translation>追问：对话中的 {0} 个词元（包括图片）沿用了上一次回答的缓存，没有重新读取。</translation>
        </message>
        <message>
            <source>{0:.1f} tokens/s</source>
            <translation>{0:.1f} token/秒</translation>
        </message>
        <message>
            <source>{0} in use</source>
            <translation>占用 {0}</translation>
        </message>
        <message>
            <source>Memory this process holds now (on a GPU: what the GPU holds)</source>
            <translation>本进程当前占用的内存（使用 GPU 时为 GPU 占用的显存）</translation>
        </message>
        <message>
            <source>The last answer peaked at {0}</source>
            <translation>上一个回答的峰值为 {0}</translation>
        </message>
    </context>
</TS>
